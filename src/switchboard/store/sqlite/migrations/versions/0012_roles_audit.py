"""Roles for tokens, and the audit list: who sent each run's prompt, and every prompt,
answer and admin change with the name of the token that made it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("by", sa.String(200)))
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("token_id", sa.String(64)),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("project_id", sa.String(64)),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index("ix_audit_project", "audit", ["project_id", "id"])
    # run.list pages a project's runs newest first
    op.create_index("ix_runs_project_created", "runs", ["project_id", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_runs_project_created", table_name="runs")
    op.drop_index("ix_audit_project", table_name="audit")
    op.drop_table("audit")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("by")
