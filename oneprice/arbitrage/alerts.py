"""Alerts on new or materially changed opportunities, through console, JSON Lines and webhook sinks.

An opportunity is identified by its match, kind and legs (``alert_key``). It is alerted when no
alert was sent for that key before, or when its per-contract edge moved by at least ``change``
dollars or its size by a quarter since the last alert. Books older than ``max_age_s`` (wall clock)
are never alerted on. Every alert sent is stored, so a restart never repeats one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import httpx
from pydantic import SecretStr
from sqlalchemy import Engine, select

from oneprice.arbitrage import safety
from oneprice.arbitrage.detect import Candidate
from oneprice.config import Settings
from oneprice.db import session_scope
from oneprice.db.base import now_utc
from oneprice.db.models_arbitrage import ArbAlert

log = logging.getLogger(__name__)


class AlertSink(Protocol):
    name: str

    async def send(self, alert: dict[str, Any]) -> None: ...


def _line(a: dict[str, Any]) -> str:
    legs = " + ".join(
        f"{lg['venue']}:{lg['market_id']}:{lg['outcome']}@{lg['avg_price']}" for lg in a["legs"]
    )
    return (
        f"ALERT {a['kind']} match {a['match_id']}: edge ${a['edge']}/contract x {a['size']} "
        f"(risk-adj {a['risk_adjusted_edge']}) via {legs}"
    )


class ConsoleSink:
    name = "console"

    def __init__(self, write: Any = print) -> None:
        self.write = write

    async def send(self, alert: dict[str, Any]) -> None:
        self.write(_line(alert))


class JsonlSink:
    name = "jsonl"

    def __init__(self, path: Path) -> None:
        self.path = path

    async def send(self, alert: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(alert, default=str, sort_keys=True) + "\n")


class WebhookSink:
    """POSTs the alert as JSON. The URL is a secret: it is never logged or stored."""

    name = "webhook"

    def __init__(self, url: SecretStr, timeout_s: float = 10.0) -> None:
        self._url = url
        self.timeout_s = timeout_s

    async def send(self, alert: dict[str, Any]) -> None:
        async with httpx.AsyncClient(timeout=self.timeout_s) as client:
            resp = await client.post(
                self._url.get_secret_value(),
                content=json.dumps(alert, default=str),
                headers={"content-type": "application/json"},
            )
        if resp.status_code >= 400:
            raise RuntimeError(f"webhook answered HTTP {resp.status_code}")


def sinks_from_settings(s: Settings) -> list[AlertSink]:
    out: list[AlertSink] = []
    for name in (n.strip().lower() for n in s.arb_alert_sinks.split(",") if n.strip()):
        if name == "console":
            out.append(ConsoleSink())
        elif name == "jsonl":
            out.append(JsonlSink(s.arb_alert_jsonl or s.data_dir / "alerts.jsonl"))
        elif name == "webhook":
            if s.webhook_url is None:
                log.warning("webhook sink configured but ONEPRICE_WEBHOOK_URL is not set; skipped")
            else:
                out.append(WebhookSink(s.webhook_url, s.http_timeout_s))
        else:
            log.warning("unknown alert sink %r ignored", name)
    return out


def alert_key(c: Candidate) -> str:
    legs = "|".join(f"{lg['venue']}:{lg['market_id']}:{lg['outcome']}" for lg in c.legs)
    return f"{c.pair.match_id}:{c.kind}:{legs}"[:255]


def payload(c: Candidate, run_id: int) -> dict[str, Any]:
    return {
        "scan_run_id": run_id,
        "match_id": c.pair.match_id,
        "kind": c.kind,
        "relation": c.pair.relation,
        "edge": str(c.edge),
        "size": str(c.size),
        "profit": str(c.profit),
        "fees": str(c.fees),
        "max_size": str(c.max_size),
        "annualized": str(c.annualized),
        "confidence": c.confidence,
        "reviewed": c.reviewed,
        "flags": list(c.flags),
        "risk_adjusted_edge": str(c.risk_adjusted_edge),
        "book_ts": c.book_ts,
        "legs": c.legs,
        "questions": [c.pair.market_a.question, c.pair.market_b.question],
    }


@dataclass
class AlertPolicy:
    min_edge: Decimal = Decimal(0)
    change: Decimal = Decimal("0.005")
    max_age_s: float = 120.0


def _is_news(c: Candidate, last: ArbAlert | None, policy: AlertPolicy) -> bool:
    if last is None:
        return True
    edge = c.edge or Decimal(0)
    if abs(edge - last.edge) >= policy.change:
        return True
    return last.size == 0 or abs(c.size - last.size) / last.size >= Decimal("0.25")


async def dispatch(
    engine: Engine,
    run_id: int,
    candidates: Sequence[Candidate],
    row_ids: dict[int, int],
    sinks: Sequence[AlertSink],
    policy: AlertPolicy,
    now: datetime | None = None,
) -> int:
    """Send alerts for new or materially changed fresh opportunities; return how many were sent."""
    now = now or now_utc()
    sent = 0
    for c in candidates:
        if not c.is_opportunity or c.book_ts is None or (now - c.book_ts).total_seconds() > policy.max_age_s:
            continue
        if c.risk_adjusted_edge is None or c.risk_adjusted_edge <= policy.min_edge:
            continue
        if safety.HELD in c.flags:  # far above the usual deviation and nobody has read the pair
            continue
        key = alert_key(c)
        with session_scope(engine) as s:
            last = s.scalars(
                select(ArbAlert).where(ArbAlert.key == key).order_by(ArbAlert.id.desc()).limit(1)
            ).first()
            if not _is_news(c, last, policy):
                continue
        body = payload(c, run_id)
        results: dict[str, Any] = {}
        for sink in sinks:
            try:
                await sink.send(body)
                results[sink.name] = "ok"
            except Exception as exc:  # one sink failing never stops the others
                results[sink.name] = f"{type(exc).__name__}: {exc}"[:200]
                log.warning("alert sink %s failed: %s", sink.name, results[sink.name])
        with session_scope(engine) as s:
            s.add(
                ArbAlert(
                    key=key,
                    match_id=c.pair.match_id,
                    opportunity_id=row_ids.get(id(c)),
                    edge=(c.edge or Decimal(0)).quantize(Decimal("0.00000001")),
                    size=c.size,
                    sent_at=now,
                    sinks=results,
                    payload=json.loads(json.dumps(body, default=str)),
                )
            )
        sent += 1
    return sent
