"""The alert outbox: a failing sink is retried with backoff, a slow one never holds the scans, and
overlapping scans never alert twice."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from oneprice.arbitrage import alerts
from oneprice.arbitrage.alerts import AlertPolicy, ConsoleSink
from oneprice.db import session_scope
from oneprice.db.base import now_utc
from oneprice.db.models_arbitrage import ArbAlert, ArbScanRun
from oneprice.services import arbitrage as svc
from oneprice.services.container import Services, build_services
from tests.arbitrage.conftest import db_url
from tests.arbitrage.test_scan import _setup


class FlakySink:
    """A webhook stand-in answering 500 until ``up``; records what it accepted."""

    name = "webhook"

    def __init__(self) -> None:
        self.up = False
        self.accepted: list[dict[str, Any]] = []
        self.refused = 0

    async def send(self, alert: dict[str, Any]) -> None:
        if not self.up:
            self.refused += 1
            raise RuntimeError("webhook answered HTTP 500")
        self.accepted.append(alert)


class StuckSink:
    """A webhook that never answers."""

    name = "webhook"

    def __init__(self) -> None:
        self.started = 0

    async def send(self, alert: dict[str, Any]) -> None:
        self.started += 1
        await asyncio.Event().wait()


def _svc(engine: Engine) -> Services:
    return build_services(db_url=db_url(engine))


def _rows(engine: Engine) -> list[ArbAlert]:
    with session_scope(engine) as s:
        return list(s.scalars(select(ArbAlert).order_by(ArbAlert.id)))


def test_a_failing_webhook_keeps_alerts_pending_and_delivers_them_once_it_recovers(engine: Engine) -> None:
    clients, _ = _setup(engine)
    hook, lines = FlakySink(), []
    res = svc.scan_once(_svc(engine), "live", clients=clients, sinks=[hook, ConsoleSink(lines.append)])
    assert res.alerts == 2 and hook.refused == 2 and len(lines) == 2
    rows = _rows(engine)
    assert [r.status for r in rows] == ["pending", "pending"]  # not stored as sent
    assert all(
        r.sinks == {"webhook": "RuntimeError: webhook answered HTTP 500", "console": "ok"} for r in rows
    )
    assert all(r.attempts == 1 and r.next_attempt_at is not None and r.sent_at is None for r in rows)
    policy = AlertPolicy(backoff_s=5.0)
    # not due yet: nothing is sent again
    assert asyncio.run(alerts.deliver(engine, [hook], policy)).sent == 0 and hook.refused == 2
    hook.up = True
    later = now_utc() + timedelta(seconds=6)
    got = asyncio.run(alerts.deliver(engine, [hook, ConsoleSink(lines.append)], policy, now=later))
    assert got.sent == 2 and len(hook.accepted) == 2 and len(lines) == 2  # the console is not repeated
    assert [r.status for r in _rows(engine)] == ["sent", "sent"]
    again = asyncio.run(alerts.deliver(engine, [hook], policy, now=later + timedelta(hours=2)))
    assert again.sent == 0 and len(hook.accepted) == 2


def test_retries_back_off_and_end_in_failed(engine: Engine) -> None:
    clients, _ = _setup(engine)
    hook = FlakySink()
    svc.scan_once(_svc(engine), "live", clients=clients, sinks=[hook])
    policy = AlertPolicy(max_attempts=3, backoff_s=5.0)
    assert [alerts.retry_delay(n, policy) for n in (1, 2, 3)] == [5.0, 10.0, 20.0]
    assert alerts.retry_delay(40, policy) == policy.max_backoff_s
    t = now_utc()
    for step in (6, 11):  # attempts 2 and 3, each after its backoff
        t += timedelta(seconds=step)
        asyncio.run(alerts.deliver(engine, [hook], policy, now=t))
    rows = _rows(engine)
    assert [(r.status, r.attempts) for r in rows] == [("failed", 3), ("failed", 3)]
    assert hook.refused == 6


def test_a_stuck_webhook_never_holds_the_scan_loop(engine: Engine) -> None:
    clients, _ = _setup(engine)
    hook = StuckSink()

    async def go() -> int:
        loop = svc.scan_forever(_svc(engine), 0.0, "live", max_runs=3, clients=clients, sinks=[hook])
        return await asyncio.wait_for(loop, 120)  # a hang guard, not a timing assertion

    assert asyncio.run(go()) == 3
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(ArbScanRun)) == 3
    assert [r.status for r in _rows(engine)] == ["pending", "pending"]  # still owed, not lost


def test_overlapping_scans_enqueue_each_alert_once(engine: Engine) -> None:
    clients, _ = _setup(engine)
    gate = threading.Barrier(3)
    results: list[int] = []

    def scan() -> None:
        gate.wait()
        results.append(svc.scan_once(_svc(engine), "live", clients=clients, sinks=[]).alerts)

    threads = [threading.Thread(target=scan) for _ in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(results) == 3 and sum(results) == 2 and len(_rows(engine)) == 2


def test_a_second_insert_of_the_same_alert_is_refused_by_the_database(engine: Engine) -> None:
    _clients, ids = _setup(engine)
    row = {
        "key": "k",
        "seq": 1,
        "match_id": ids["arb"],
        "edge": 0,
        "size": 1,
        "status": "sent",
        "created_at": now_utc(),
        "sinks": {},
        "payload": {},
    }
    assert alerts._insert_once(engine, row) is True
    assert alerts._insert_once(engine, row) is False
    assert alerts._insert_once(engine, {**row, "seq": 2}) is True


def test_two_deliverers_never_send_one_alert_twice(engine: Engine) -> None:
    clients, _ = _setup(engine)
    svc.scan_once(_svc(engine), "live", clients=clients, sinks=[FlakySink()])  # two pending alerts
    hook = FlakySink()
    hook.up = True
    later = now_utc() + timedelta(hours=1)
    policy = AlertPolicy()

    async def both() -> list[alerts.Delivery]:
        return list(
            await asyncio.gather(
                alerts.deliver(engine, [hook], policy, now=later),
                alerts.deliver(engine, [hook], policy, now=later),
            )
        )

    got = asyncio.run(both())
    assert sum(d.sent for d in got) == 2 and len(hook.accepted) == 2


@pytest.mark.parametrize("bad", ["nan", "inf"])
def test_a_nan_alert_change_is_refused_before_any_scan(bad: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from oneprice.config import Settings
    from oneprice.core.errors import ConfigError

    monkeypatch.setenv("ONEPRICE_ARB_ALERT_CHANGE", bad)
    with pytest.raises(ConfigError, match="ONEPRICE_ARB_ALERT_CHANGE"):
        Settings()
