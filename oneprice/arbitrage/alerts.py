"""Alerts on new or materially changed opportunities, through console, JSON Lines and webhook sinks.

An opportunity is identified by its match, kind and legs (``alert_key``). It is alerted when no
alert was made for that key before, or when its per-contract edge moved by at least ``change``
dollars or its size by a quarter since the last alert. Books older than ``max_age_s`` (wall clock)
are never alerted on.

Alerts go through an outbox (``arb_alerts``): a scan only *enqueues* them (``enqueue``, database work
only), numbered per key; the unique (key, seq) lets one of two overlapping scans enqueue an alert and
the other skip it, in any number of processes. ``deliver`` sends due alerts to each sink that has not
yet taken them, concurrently and with a timeout per send, under a lease on the row so that two
deliverers never send one alert twice; a failing sink is retried with exponential backoff
(``retry_delay``) until ``max_attempts``, then the alert is marked ``failed``. A restart never repeats
a delivered alert and resumes the pending ones.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import httpx
from pydantic import SecretStr
from sqlalchemy import Engine, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

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
    max_attempts: int = 8  # deliveries tried per alert before it is marked failed
    backoff_s: float = 5.0  # delay before the first retry; doubles each attempt
    max_backoff_s: float = 3600.0
    send_timeout_s: float = 15.0  # one sink's send; a slower one counts as a failed attempt
    lease_s: float = 120.0  # a deliverer's claim on an alert (longer than any send)


def policy_from(s: Settings) -> AlertPolicy:
    return AlertPolicy(
        Decimal(str(s.arb_alert_min_edge)),
        Decimal(str(s.arb_alert_change)),
        s.arb_max_book_age_s,
        s.arb_alert_max_attempts,
        s.arb_alert_backoff_s,
        send_timeout_s=s.http_timeout_s,
        lease_s=max(120.0, 4 * s.http_timeout_s),
    )


def retry_delay(attempts: int, policy: AlertPolicy) -> float:
    """Seconds before the next try after ``attempts`` failed ones: backoff_s * 2**(attempts-1), capped."""
    return min(policy.max_backoff_s, policy.backoff_s * 2 ** max(0, attempts - 1))


def _is_news(c: Candidate, last: ArbAlert | None, policy: AlertPolicy) -> bool:
    if last is None:
        return True
    edge = c.edge or Decimal(0)
    if abs(edge - last.edge) >= policy.change:
        return True
    return last.size == 0 or abs(c.size - last.size) / last.size >= Decimal("0.25")


def _insert_once(engine: Engine, row: dict[str, Any]) -> bool:
    """Insert an alert unless another process already took its (key, seq); True when this one did."""
    ins: Any = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    stmt = ins(ArbAlert).values(**row).on_conflict_do_nothing(index_elements=["key", "seq"])
    with session_scope(engine) as s:
        return bool(s.execute(stmt.returning(ArbAlert.id)).first())


def enqueue(
    engine: Engine,
    run_id: int,
    candidates: Sequence[Candidate],
    row_ids: dict[int, int],
    sink_names: Sequence[str],
    policy: AlertPolicy,
    now: datetime | None = None,
) -> int:
    """Put an alert in the outbox for each new or materially changed fresh opportunity; return how many
    this call enqueued (an alert another process enqueued first is not counted)."""
    now = now or now_utc()
    made = 0
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
                select(ArbAlert).where(ArbAlert.key == key).order_by(ArbAlert.seq.desc()).limit(1)
            ).first()
        if not _is_news(c, last, policy):
            continue
        pending = bool(sink_names)
        row = {
            "key": key,
            "seq": (last.seq + 1) if last is not None else 1,
            "match_id": c.pair.match_id,
            "opportunity_id": row_ids.get(id(c)),
            "edge": (c.edge or Decimal(0)).quantize(Decimal("0.00000001")),
            "size": c.size,
            "status": "pending" if pending else "sent",
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now if pending else None,
            "sent_at": None if pending else now,
            "sinks": {n: "pending" for n in sink_names},
            "payload": json.loads(json.dumps(payload(c, run_id), default=str)),
        }
        if _insert_once(engine, row):
            made += 1
    return made


@dataclass
class Delivery:
    sent: int = 0  # alerts every sink has now taken
    retrying: int = 0  # alerts with a sink still failing, to be retried later
    failed: int = 0  # alerts given up after max_attempts
    errors: list[str] = field(default_factory=list)


def _claim(engine: Engine, alert_id: int, now: datetime, policy: AlertPolicy) -> ArbAlert | None:
    """Lease a due alert for this deliverer (a conditional UPDATE: one process wins); None if taken."""
    free = or_(ArbAlert.claimed_until.is_(None), ArbAlert.claimed_until < now)
    with session_scope(engine) as s:
        res = s.execute(
            update(ArbAlert)
            .where(ArbAlert.id == alert_id, ArbAlert.status == "pending", free)
            .values(claimed_until=now + timedelta(seconds=policy.lease_s))
            .execution_options(synchronize_session=False)
        )
        if getattr(res, "rowcount", 0) != 1:
            return None
        return s.get(ArbAlert, alert_id)


async def _send(sink: AlertSink, body: dict[str, Any], timeout_s: float) -> str:
    try:
        await asyncio.wait_for(sink.send(body), timeout_s)
        return "ok"
    except TimeoutError:
        return f"timeout after {timeout_s:g}s"
    except Exception as exc:  # one sink failing never stops the others
        return f"{type(exc).__name__}: {exc}"[:200]


async def _deliver_one(
    engine: Engine, alert: ArbAlert, sinks: dict[str, AlertSink], policy: AlertPolicy, out: Delivery
) -> None:
    results = dict(alert.sinks or {})
    todo = [n for n, r in results.items() if r != "ok"]
    for name in todo:
        sink = sinks.get(name)
        results[name] = (
            "not configured" if sink is None else await _send(sink, alert.payload, policy.send_timeout_s)
        )
        if results[name] != "ok":
            log.warning("alert %s: sink %s failed: %s", alert.id, name, results[name])
    now = now_utc()
    values: dict[str, Any] = {"sinks": results, "claimed_until": None, "attempts": alert.attempts + 1}
    if all(r == "ok" for r in results.values()):
        values |= {"status": "sent", "sent_at": now, "next_attempt_at": None}
        out.sent += 1
    elif alert.attempts + 1 >= policy.max_attempts:
        values |= {"status": "failed", "next_attempt_at": None}
        out.failed += 1
    else:
        values["next_attempt_at"] = now + timedelta(seconds=retry_delay(alert.attempts + 1, policy))
        out.retrying += 1
    with session_scope(engine) as s:
        s.execute(
            update(ArbAlert)
            .where(ArbAlert.id == alert.id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


async def deliver(
    engine: Engine,
    sinks: Sequence[AlertSink],
    policy: AlertPolicy,
    now: datetime | None = None,
    limit: int = 200,
    concurrency: int = 8,
) -> Delivery:
    """Send the due alerts of the outbox (oldest first, at most ``limit``) to the sinks still owed them."""
    now = now or now_utc()
    out = Delivery()
    by_name = {sk.name: sk for sk in sinks}
    due = and_(ArbAlert.status == "pending", ArbAlert.next_attempt_at <= now)
    free = or_(ArbAlert.claimed_until.is_(None), ArbAlert.claimed_until < now)
    with session_scope(engine) as s:
        ids = list(s.scalars(select(ArbAlert.id).where(due, free).order_by(ArbAlert.id).limit(limit)))
    gate = asyncio.Semaphore(concurrency)

    async def one(alert_id: int) -> None:
        async with gate:
            alert = _claim(engine, alert_id, now, policy)
            if alert is not None:
                await _deliver_one(engine, alert, by_name, policy, out)

    await asyncio.gather(*(one(i) for i in ids))
    return out


async def delivery_loop(
    engine: Engine, sinks: Sequence[AlertSink], policy: AlertPolicy, every_s: float = 1.0
) -> None:
    """Deliver due alerts every ``every_s`` seconds until cancelled (runs beside the scan loop)."""
    while True:
        try:
            await deliver(engine, sinks, policy)
        except asyncio.CancelledError:
            raise
        except Exception:  # a database hiccup never ends the loop; the alerts stay in the outbox
            log.exception("alert delivery failed; retrying")
        await asyncio.sleep(every_s)


async def dispatch(
    engine: Engine,
    run_id: int,
    candidates: Sequence[Candidate],
    row_ids: dict[int, int],
    sinks: Sequence[AlertSink],
    policy: AlertPolicy,
    now: datetime | None = None,
) -> int:
    """Enqueue the alerts of one scan and deliver what is due once; return how many were enqueued."""
    made = enqueue(engine, run_id, candidates, row_ids, [sk.name for sk in sinks], policy, now)
    if sinks:
        await deliver(engine, sinks, policy, now)
    return made
