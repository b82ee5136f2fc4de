"""A project's permission mode (the default of its runs).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("permission_mode", sa.String(32)))


def downgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("permission_mode")
