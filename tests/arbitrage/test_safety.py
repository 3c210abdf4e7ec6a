"""Trading safety: unreviewed pairs marked, thin rules flagged, outsized unreviewed edges held, and
``ONEPRICE_ARB_REQUIRE_CONFIRMED`` limiting scans to confirmed pairs."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import Engine, select

from oneprice.arbitrage import safety
from oneprice.arbitrage.alerts import ConsoleSink
from oneprice.core import Market
from oneprice.db import models as m
from oneprice.db import session_scope
from oneprice.services import arbitrage as svc
from oneprice.services.container import build_services

from .conftest import FakeVenue, add_pair, db_url, fresh_books


def _m(question: str, rules: str) -> Market:
    return Market(venue="kalshi", market_id="KX-1", question=question, rules=rules)


# real rules texts (Kalshi and Polymarket listings of 2025-02-11)
ONE_LINE = "If Bitcoin is above 100000 on Mar 1, 2025, then the market resolves to Yes."
SOURCED = (
    "If the CF Benchmarks Bitcoin Real Time Index (BRTI) is above 100000 at 5 PM ET on Mar 1, 2025, "
    "then the market resolves to Yes. The index is published by CF Benchmarks."
)


def test_thin_rules_flag_numbers_without_a_source() -> None:
    # the shape of the scan fixtures' questions: an id with digits, no rules
    assert safety.flags(_m("Will 0xbig happen?", ""), _m("Will X happen?", ""), True, None) == [
        safety.THIN_RULES
    ]


def test_thin_rules_need_a_measure_source_or_tie_rule() -> None:
    assert safety.thin_rules(_m("Will Bitcoin be above $100k on March 1?", ONE_LINE))
    assert not safety.thin_rules(_m("Will Bitcoin be above $100k on March 1?", SOURCED))
    # no number, rank or leaderboard in the question: a one-line rule decides it
    ponta = "If Ponta wins the next Romanian presidential election, the market resolves to Yes."
    assert not safety.thin_rules(_m("Will Victor Ponta win the Romanian presidential election?", ponta))
    assert safety.thin_rules(_m("Will Anora be the top-grossing film of 2025?", ""))


def test_flags_compose() -> None:
    rules = "If X happens, then the market resolves to Yes."
    a, b = _m("Will X happen?", rules), _m("Will X happen?", rules)
    assert safety.flags(a, b, reviewed=True, edge=Decimal("0.5")) == []
    assert safety.flags(a, b, reviewed=False, edge=Decimal("0.03")) == [safety.UNREVIEWED]
    assert safety.flags(a, b, reviewed=False, edge=Decimal("0.25")) == [safety.UNREVIEWED, safety.HELD]


def _clients() -> dict[str, FakeVenue]:
    return {
        "kalshi": FakeVenue({"KX-BIG": fresh_books("kalshi", "KX-BIG", "0.30", "0.72"),
                             "KX-OK": fresh_books("kalshi", "KX-OK", "0.40", "0.62")}),
        "polymarket": FakeVenue({"0xbig": fresh_books("polymarket", "0xbig", "0.50", "0.45"),
                                 "0xok": fresh_books("polymarket", "0xok", "0.45", "0.52")}),
    }  # fmt: skip


def _word_questions(engine: Engine) -> None:
    """Questions with no number or rank ("Will 0xbig happen?" names a number): one-line rules decide them."""
    with session_scope(engine) as s:
        for row in s.scalars(select(m.Market)):
            row.question = "Will the treaty be signed?"
            row.rules = "If the treaty is signed, then the market resolves to Yes."


def test_unreviewed_outsized_edge_is_marked_and_held(engine: Engine) -> None:
    big = add_pair(engine, "KX-BIG", "0xbig", status="proposed", confidence=0.97)  # 0.30 + 0.45: edge 0.25
    ok = add_pair(engine, "KX-OK", "0xok")  # confirmed, 0.40 + 0.52: edge 0.08
    _word_questions(engine)
    lines: list[str] = []
    services = build_services(db_url=db_url(engine))
    res = svc.scan_once(services, "live", clients=_clients(), sinks=[ConsoleSink(lines.append)])
    found = {o.match_id: o for o in res.opportunities}
    assert found[big].flags == [safety.UNREVIEWED, safety.HELD] and not found[big].clean
    assert found[ok].flags == [] and found[ok].clean and found[ok].reviewed
    assert res.alerts == 1 and f"match {ok}" in lines[0]  # the held edge is not alerted
    latest = {r.match_id: r for r in svc.latest_opportunities(services)}
    assert latest[big].flags == [safety.UNREVIEWED, safety.HELD] and not latest[big].reviewed


def test_require_confirmed_scans_only_confirmed_pairs(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_pair(engine, "KX-BIG", "0xbig", status="proposed", confidence=0.97)
    ok = add_pair(engine, "KX-OK", "0xok")
    _word_questions(engine)
    monkeypatch.setenv("ONEPRICE_ARB_REQUIRE_CONFIRMED", "true")
    res = svc.scan_once(build_services(db_url=db_url(engine)), "live", clients=_clients(), sinks=[])
    assert res.pairs == 1 and [o.match_id for o in res.opportunities] == [ok]


def test_periods_and_titles_are_no_measure() -> None:
    """A year, a date, a 'first year' window or an award's title asks for no number or ranking: a
    one-line rule decides those. A rank, a share or a leaderboard still needs its measure named."""
    for q in ("Will Sławomir Mentzen win the 2025 Polish presidential election?",
              "Will Trump visit Germany in the first year?",
              "Will Brady Corbet win Best Director at the Oscars?",
              "Will a NYSE marketwide circuitbreaker happen before 2026?"):  # fmt: skip
        assert not safety.thin_rules(
            _m(q, "If it happens as the question says, then the market resolves to Yes.")
        )
    for q in ("Will New Democratic Party get 2nd in the Canadian federal election?",
              "Will Zhipu AI have a top-ranked AI model before 2026?",
              "Will Anora be the best-reviewed film of 2025?"):  # fmt: skip
        assert safety.thin_rules(
            _m(q, "If it happens as the question says, then the market resolves to Yes.")
        )


def test_no_rules_at_all_is_thin() -> None:
    assert safety.thin_rules(_m("Will Trump impose tariffs on any country in the first 100 days?", ""))
    assert not safety.thin_rules(
        _m(
            "Will Trump impose tariffs on any country in the first 100 days?",
            "If Trump imposes a new tariff on any country before Apr 30, 2025, Yes.",
        )
    )


def test_an_unfilled_rules_template_is_thin() -> None:
    rules = "If || disease || becomes a pandemic by Dec 31, 2025, then the market resolves to Yes."
    assert safety.thin_rules(_m("New pandemic by 2025?", rules))
