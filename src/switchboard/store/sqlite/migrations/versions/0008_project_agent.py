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
"""Names the unnamed unique constraint of ``path`` so that it can be dropped."""


def upgrade() -> None:
    with op.batch_alter_table("projects", naming_convention=NAMES) as batch:
        batch.add_column(sa.Column("agent", sa.String(200), nullable=False, server_default=""))
        batch.drop_constraint("uq_projects_path", type_="unique")
        batch.create_unique_constraint("uq_projects_agent_path", ["agent", "path"])


def downgrade() -> None:
    with op.batch_alter_table("projects", naming_convention=NAMES) as batch:
        batch.drop_constraint("uq_projects_agent_path", type_="unique")
        batch.create_unique_constraint("uq_projects_path", ["path"])
        batch.drop_column("agent")
