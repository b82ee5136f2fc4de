"""The back-channel: each project's task list and latest diagnostics per file, and
whether its CLI gets Switchboard's tools.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.add_column(
            sa.Column("back_channel", sa.Boolean, nullable=False, server_default=sa.true())
        )
    op.create_table(
        "project_tasks",
        sa.Column(
            "project_id",
            sa.String(64),
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("task_id", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("project_id", "task_id"),
    )
    op.create_table(
        "project_diagnostics",
        sa.Column(
            "project_id",
            sa.String(64),
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("project_id", "path"),
    )


def downgrade() -> None:
    op.drop_table("project_diagnostics")
    op.drop_table("project_tasks")
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("back_channel")
