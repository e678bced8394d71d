"""an outbox lease names who holds it

A lease on an outbox row says until when, and now also who: the node process
(its replica name, the run and the claim). A process checks that the lease is
still its own right before each send, so two replicas never post the same
message at once, and a node that restarts takes back at once what its previous
run had claimed instead of waiting for those leases to lapse.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("claimed_by")
