"""Per-project retention policies (``project.retention``): how old, or how large, a
project's event log may grow before its oldest events are deleted.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-12
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "project_retention",
        sa.Column(
            "project_id",
            sa.String(64),
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("max_age_seconds", sa.Float),
        sa.Column("max_bytes", sa.Integer),
    )


def downgrade() -> None:
    op.drop_table("project_retention")
