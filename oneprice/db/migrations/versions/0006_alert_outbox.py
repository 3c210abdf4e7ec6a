"""alert outbox: arb_alerts gains seq (unique per key), status, attempts and delivery times

Revision ID: 0006_alert_outbox
Revises: 0005_market_terms
Create Date: 2026-12-05 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import oneprice.db.base

revision = "0006_alert_outbox"
down_revision = "0005_market_terms"
branch_labels = None
depends_on = None

UTC = oneprice.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("arb_alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("status", sa.String(length=16), nullable=False, server_default="sent"))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("created_at", UTC, nullable=True))
        batch_op.add_column(sa.Column("next_attempt_at", UTC, nullable=True))
        batch_op.add_column(sa.Column("claimed_until", UTC, nullable=True))
        batch_op.alter_column("sent_at", existing_type=UTC, nullable=True)
    # alerts already stored were sent: number them per key in the order they were sent
    op.execute(
        "UPDATE arb_alerts SET created_at = sent_at, seq = "
        "(SELECT count(*) FROM arb_alerts AS prev WHERE prev.key = arb_alerts.key AND prev.id <= arb_alerts.id)"
    )
    with op.batch_alter_table("arb_alerts", schema=None) as batch_op:
        batch_op.alter_column("created_at", existing_type=UTC, nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_arb_alerts_key_seq"), ["key", "seq"])
        batch_op.create_index("ix_arb_alerts_status_next", ["status", "next_attempt_at"], unique=False)


def downgrade() -> None:
    op.execute("DELETE FROM arb_alerts WHERE sent_at IS NULL")
    with op.batch_alter_table("arb_alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_arb_alerts_status_next")
        batch_op.drop_constraint(batch_op.f("uq_arb_alerts_key_seq"), type_="unique")
        batch_op.alter_column("sent_at", existing_type=UTC, nullable=False)
        for col in ("claimed_until", "next_attempt_at", "created_at", "attempts", "status", "seq"):
            batch_op.drop_column(col)
