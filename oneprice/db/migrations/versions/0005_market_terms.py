"""market terms: the contract terms a venue states (strikes, expected expiration, series, group item,
resolution source); safety flags of each scanned opportunity

Revision ID: 0005_market_terms
Revises: 0003_arbitrage
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import oneprice.db.base

revision = "0005_market_terms"
down_revision = "0003_arbitrage"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("markets") as batch:
        batch.add_column(sa.Column("strike_type", sa.String(length=32), nullable=False, server_default=""))
        batch.add_column(sa.Column("floor_strike", sa.Float(), nullable=True))
        batch.add_column(sa.Column("cap_strike", sa.Float(), nullable=True))
        batch.add_column(
            sa.Column("expected_expiration", oneprice.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("series", sa.String(length=255), nullable=False, server_default=""))
        batch.add_column(sa.Column("group_item", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("resolution_source", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("arb_opportunities") as batch:
        batch.add_column(sa.Column("flags", oneprice.db.base.JSONType, nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("arb_opportunities") as batch:
        batch.drop_column("flags")
    with op.batch_alter_table("markets") as batch:
        for col in ("resolution_source", "group_item", "series", "expected_expiration", "cap_strike",
                    "floor_strike", "strike_type"):  # fmt: skip
            batch.drop_column(col)
