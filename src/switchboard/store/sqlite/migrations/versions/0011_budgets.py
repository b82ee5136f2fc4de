"""Budgets: per-project limits and the spend ledger.

A project's own daily and per-run limits (NULL: the server's default). The ledger is
the runs' own cost (``runs.cost_usd``) summed by the UTC day each run finished, so it
needs an index, not a table.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "project_budgets",
        sa.Column(
            "project_id",
            sa.String(64),
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("daily_usd", sa.Float),
        sa.Column("run_usd", sa.Float),
    )
    op.create_index("ix_runs_finished", "runs", ["finished_at"])


def downgrade() -> None:
    op.drop_index("ix_runs_finished", table_name="runs")
    op.drop_table("project_budgets")
