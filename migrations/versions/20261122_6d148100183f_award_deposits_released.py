"""award: deposits released after the contract

Revision ID: 6d148100183f
Revises: 1eff3da1f1b7
Create Date: 2026-11-22 05:33:20.226724
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sunlit.kernel.db

revision: str = "6d148100183f"
down_revision: str | None = "1eff3da1f1b7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("award_contracts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "securities_released_at",
                sunlit.kernel.db.UTCDateTime(timezone=True),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("award_contracts", schema=None) as batch_op:
        batch_op.drop_column("securities_released_at")
