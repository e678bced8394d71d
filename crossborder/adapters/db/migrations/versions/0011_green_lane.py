"""green lane trucks: pre-arrival notice, lane decision, arrival, joint inspection, release

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lane_trucks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=48), nullable=False),
        sa.Column("notice_reference", sa.String(length=64), nullable=False),
        sa.Column("exporting_agency", sa.String(length=32), nullable=False),
        sa.Column("importing_agency", sa.String(length=32), nullable=False),
        sa.Column("gate", sa.String(length=20), nullable=False),
        sa.Column("plate", sa.String(length=12), nullable=False),
        sa.Column("trader_id", sa.String(length=18), nullable=False),
        sa.Column("perishable", sa.Boolean(), nullable=False),
        sa.Column("notice", sa.JSON(), nullable=False),
        sa.Column("lane", sa.String(length=8), nullable=True),
        sa.Column("decision", sa.JSON(), nullable=True),
        sa.Column("inspection", sa.JSON(), nullable=True),
        sa.Column("record_digest", sa.String(length=64), nullable=True),
        sa.Column("signatures", sa.JSON(), nullable=True),
        sa.Column("added_findings", sa.JSON(), nullable=True),
        sa.Column("release", sa.JSON(), nullable=True),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("inspected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_lane_trucks_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lane_trucks")),
        sa.UniqueConstraint("case_id", name=op.f("uq_lane_trucks_case_id")),
    )
    op.create_index(op.f("ix_lane_trucks_plate"), "lane_trucks", ["plate"], unique=False)
    op.create_index(op.f("ix_lane_trucks_trader_id"), "lane_trucks", ["trader_id"], unique=False)
    op.create_index("ix_lane_trucks_gate_arrived", "lane_trucks", ["gate", "arrived_at"])


def downgrade() -> None:
    op.drop_index("ix_lane_trucks_gate_arrived", table_name="lane_trucks")
    op.drop_index(op.f("ix_lane_trucks_trader_id"), table_name="lane_trucks")
    op.drop_index(op.f("ix_lane_trucks_plate"), table_name="lane_trucks")
    op.drop_table("lane_trucks")
