"""officers may hold a password, to sign in to the web console

Only its Argon2id hash is kept (the PHC string: algorithm, parameters, salt and
hash together). An officer without one cannot sign in to the console until an
operator, or they themselves, set it (``crossborder officer set-password ID``);
the command line needs none.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("officers") as batch:
        batch.add_column(sa.Column("password_hash", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("officers") as batch:
        batch.drop_column("password_hash")
