"""Projects that live on a remote agent: the agent's name (empty for this machine), and
a path unique per machine rather than overall.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
"""Names the unnamed unique constraint of ``path`` on SQLite, so that it can be dropped."""


def _path_constraint() -> str:
    """The unique constraint of ``path``: the name the database gave it (PostgreSQL's
    ``projects_path_key``), else the one :data:`NAMES` gives it (SQLite has none)."""
    for constraint in sa.inspect(op.get_bind()).get_unique_constraints("projects"):
        if constraint["column_names"] == ["path"] and constraint["name"]:
            return str(constraint["name"])
    return "uq_projects_path"


def upgrade() -> None:
    path_constraint = _path_constraint()
    with op.batch_alter_table("projects", naming_convention=NAMES) as batch:
        batch.add_column(sa.Column("agent", sa.String(200), nullable=False, server_default=""))
        batch.drop_constraint(path_constraint, type_="unique")
        batch.create_unique_constraint("uq_projects_agent_path", ["agent", "path"])


def downgrade() -> None:
    with op.batch_alter_table("projects", naming_convention=NAMES) as batch:
        batch.drop_constraint("uq_projects_agent_path", type_="unique")
        batch.create_unique_constraint("uq_projects_path", ["path"])
        batch.drop_column("agent")
