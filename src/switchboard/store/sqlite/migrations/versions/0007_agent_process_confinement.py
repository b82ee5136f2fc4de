"""Where a recorded CLI's processes are besides its group (its environment marker and,
where one was created, its cgroup), so the next server stops them all after a crash.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-12
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agent_processes") as batch:
        batch.add_column(sa.Column("marker", sa.String(128)))
        batch.add_column(sa.Column("cgroup", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("agent_processes") as batch:
        batch.drop_column("cgroup")
        batch.drop_column("marker")
