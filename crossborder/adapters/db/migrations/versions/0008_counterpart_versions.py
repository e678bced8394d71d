"""registrations a running node can follow, and what a counterpart answered

A counterpart's registration gets a version, raised by every change, so that a
running node sees the change and rebuilds its HTTP client, access token and
keys; counterparts and clients get the time of their last change. An outbox
row keeps the counterpart's last answer (status, code, its words, broken
rules) for the officer who must decide whether to send the message again.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("counterparts", "oauth_clients"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        op.execute(f"UPDATE {table} SET updated_at = added_at")
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                "updated_at", existing_type=sa.DateTime(timezone=True), nullable=False
            )
    with op.batch_alter_table("counterparts") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("last_answer", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("last_answer")
    with op.batch_alter_table("counterparts") as batch:
        batch.drop_column("version")
    for table in ("oauth_clients", "counterparts"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("updated_at")
