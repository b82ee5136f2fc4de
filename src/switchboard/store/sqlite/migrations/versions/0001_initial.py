"""Initial schema: projects, runs, events, agent_processes.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("path", sa.Text, nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("session_id", sa.String(64)),
        sa.Column("epoch", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "project_id",
            sa.String(64),
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("prompt", sa.Text, nullable=False),
        sa.Column("options", sa.Text, nullable=False, server_default="{}"),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("started_at", sa.Float),
        sa.Column("finished_at", sa.Float),
        sa.Column("duration_ms", sa.Integer),
        sa.Column("num_turns", sa.Integer),
        sa.Column("cost_usd", sa.Float),
        sa.Column("usage", sa.Text),
        sa.Column("session_id", sa.String(64)),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_runs_project_state", "runs", ["project_id", "state"])
    op.create_table(
        "events",
        sa.Column(
            "project_id",
            sa.String(64),
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("epoch", sa.Integer, nullable=False),
        sa.Column("run_id", sa.String(64)),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("project_id", "seq", name="pk_events"),
    )
    op.create_table(
        "agent_processes",
        sa.Column("pgid", sa.Integer, nullable=False),
        sa.Column("server_instance", sa.String(64), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("start_ticks", sa.Integer),
        sa.Column("project_id", sa.String(64)),
        sa.Column("run_id", sa.String(64)),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("server_instance", "pgid", name="pk_agent_processes"),
    )


def downgrade() -> None:
    op.drop_table("agent_processes")
    op.drop_table("events")
    op.drop_index("ix_runs_project_state", table_name="runs")
    op.drop_table("runs")
    op.drop_table("projects")
