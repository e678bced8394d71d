"""fresh-produce consignments, quarantine results, recognition rules, non-compliance notices

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consignments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=48), nullable=False),
        sa.Column("certificate_number", sa.String(length=35), nullable=False),
        sa.Column("certificate", sa.JSON(), nullable=True),
        sa.Column("certificate_digest", sa.String(length=64), nullable=True),
        sa.Column("exporting_agency", sa.String(length=32), nullable=False),
        sa.Column("importing_agency", sa.String(length=32), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_consignments_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consignments")),
        sa.UniqueConstraint("case_id", name=op.f("uq_consignments_case_id")),
    )
    op.create_index(
        op.f("ix_consignments_certificate_number"),
        "consignments",
        ["certificate_number"],
        unique=False,
    )
    op.create_table(
        "quarantine_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=48), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.JSON(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_quarantine_results_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine_results")),
        sa.UniqueConstraint("case_id", name=op.f("uq_quarantine_results_case_id")),
    )
    op.create_table(
        "non_compliance_notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=48), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledgement", sa.JSON(), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_non_compliance_notices_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_non_compliance_notices")),
        sa.UniqueConstraint("case_id", name=op.f("uq_non_compliance_notices_case_id")),
    )
    op.create_table(
        "recognition_rule_sets",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("loaded_by", sa.String(length=100), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_recognition_rule_sets")),
    )


def downgrade() -> None:
    op.drop_table("recognition_rule_sets")
    op.drop_table("non_compliance_notices")
    op.drop_table("quarantine_results")
    op.drop_index(op.f("ix_consignments_certificate_number"), table_name="consignments")
    op.drop_table("consignments")
