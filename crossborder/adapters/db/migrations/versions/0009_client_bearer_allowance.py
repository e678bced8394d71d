"""a client may be allowed bearer tokens, without DPoP

Access tokens are bound to the client's DPoP key (RFC 9449). A counterpart whose
software cannot do DPoP yet may be allowed bearer tokens, client by client, by
an operator; every client registered before this revision was using bearer
tokens, so it keeps them until its operator takes the allowance away.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("oauth_clients") as batch:
        batch.add_column(
            sa.Column("bearer_allowed", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.execute("UPDATE oauth_clients SET bearer_allowed = TRUE")


def downgrade() -> None:
    with op.batch_alter_table("oauth_clients") as batch:
        batch.drop_column("bearer_allowed")
