"""indexes for the green lane's lookups that grew with every truck held

A notice is refused when one was already sent under its reference, and each
backlog run looks for the trucks ready to leave. Both read every truck the node
ever held: at 10,000 trucks a notice read some 23 MB of rows to find none. The
reference is now indexed, and so is a case's status, which finds the few
cases still moving (arrived, inspected) among all those closed.

Revision ID: 0014
Revises: 0013
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_lane_trucks_notice",
        "lane_trucks",
        ["notice_reference", "exporting_agency"],
        unique=False,
    )
    op.create_index(op.f("ix_cases_status"), "cases", ["status"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_cases_status"), table_name="cases")
    op.drop_index("ix_lane_trucks_notice", table_name="lane_trucks")
