"""alerts between agencies and their threads

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("case_id", sa.String(length=48), nullable=False),
        sa.Column("sender", sa.String(length=32), nullable=False),
        sa.Column("recipient", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("resent", sa.Integer(), nullable=False),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fallback", sa.String(length=16), nullable=True),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_alerts_case_id_cases")),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_alerts")),
    )
    op.create_index("ix_alerts_status", "alerts", ["status", "raised_at"], unique=False)
    op.create_table(
        "alert_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=48), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("author", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=True),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["alerts.case_id"], name=op.f("fk_alert_entries_case_id_alerts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_entries")),
    )
    op.create_index(op.f("ix_alert_entries_case_id"), "alert_entries", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_alert_entries_case_id"), table_name="alert_entries")
    op.drop_table("alert_entries")
    op.drop_index("ix_alerts_status", table_name="alerts")
    op.drop_table("alerts")
