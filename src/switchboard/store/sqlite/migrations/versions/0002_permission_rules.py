"""Remembered permission rules.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "permission_rules",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "project_id",
            sa.String(64),
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("tool_name", sa.String(200), nullable=False),
        sa.Column("rule_content", sa.Text),
        sa.Column("input", sa.Text),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_permission_rules_project", "permission_rules", ["project_id"])


def downgrade() -> None:
    op.drop_index("ix_permission_rules_project", "permission_rules")
    op.drop_table("permission_rules")
