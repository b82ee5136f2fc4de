"""Resume marks: how far the output of a project's process on a remote agent is stored,
so that a hub restarted takes the process back where it was.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resume_marks",
        sa.Column(
            "project_id",
            sa.String(64),
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("mark", sa.Text, nullable=False),
        sa.Column("run_id", sa.String(64)),
    )


def downgrade() -> None:
    op.drop_table("resume_marks")
