"""certificate versions carry their reason; verification requests

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("certificates") as batch:
        batch.add_column(sa.Column("note", sa.JSON(), nullable=True))
    op.create_table(
        "verifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=48), nullable=False),
        sa.Column("certificate_number", sa.String(length=35), nullable=False),
        sa.Column("requested_by", sa.String(length=32), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("documents_requested", sa.JSON(), nullable=False),
        sa.Column("request_note", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=True),
        sa.Column("findings", sa.JSON(), nullable=True),
        sa.Column("documents", sa.JSON(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_verifications_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verifications")),
    )
    op.create_index(op.f("ix_verifications_case_id"), "verifications", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_verifications_case_id"), table_name="verifications")
    op.drop_table("verifications")
    with op.batch_alter_table("certificates") as batch:
        batch.drop_column("note")
