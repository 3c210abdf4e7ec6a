"""One domain model: the frozen Match, one complete-set path, one fee model per venue, venue facts."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oneprice.arbitrage.detect import complete_sets as scanner_sets
from oneprice.backtest.convergence import complete_sets as backtest_sets
from oneprice.backtest.convergence import venue_cost
from oneprice.core.errors import ConfigError
from oneprice.core.fees import NotExecutableError, predictit_order_fee
from oneprice.core.match import Match, ReviewStatus, complete_sets
from oneprice.core.venues import describe, fee_model, tick_of

prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("0.99"), places=2)
sizes = st.integers(min_value=1, max_value=5000).map(Decimal)


def test_match_is_frozen_and_carries_its_review_state() -> None:
    m = Match(7, 1, 2, "inverse", {"Yes": "No", "No": "Yes"}, 0.93, "confirmed")
    assert m.status is ReviewStatus.CONFIRMED and m.hedgeable
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.confidence = 0.1  # type: ignore[misc]
    with pytest.raises(TypeError):
        m.outcome_map["Yes"] = "Yes"  # type: ignore[index]
    assert m.complete_sets() == [("Yes", "Yes", "equivalence"), ("No", "No", "equivalence")]
    with pytest.raises(ValueError):
        Match(1, 1, 2, "equivalent", status="maybe")


@pytest.mark.parametrize(
    "relation,omap",
    [("equivalent", {"Yes": "Yes", "No": "No"}), ("inverse", {"Yes": "No", "No": "Yes"}), ("equivalent", {})],
)
def test_scanner_and_backtest_price_the_same_complete_sets(relation: str, omap: dict[str, str]) -> None:
    core = complete_sets(relation, omap)
    assert scanner_sets is complete_sets
    assert backtest_sets(relation, omap) == [(f"A:{a}", f"B:{b}") for a, b, _ in core]


@given(price=prices, n=sizes)
def test_backtest_charges_the_scanners_fee_on_every_venue(price: Decimal, n: Decimal) -> None:
    for venue, extra in (
        ("kalshi", {}),
        ("polymarket", {"fee_rate": "0.04", "fee_exponent": "1"}),
        ("polymarket", {}),
        ("predictit", {}),
    ):
        scanner = fee_model(venue, extra)([(price, n)], False)
        assert venue_cost(venue, extra).fee_for(n, price) == scanner, venue


def test_predictit_fees_agree_where_they_used_to_differ() -> None:
    # 100 contracts at 0.60: 10% of the $40 profit, then 5% of the $96 withdrawn
    fee = venue_cost("predictit", {}).fee_for(Decimal(100), Decimal("0.60"))
    assert fee == predictit_order_fee([(Decimal("0.60"), Decimal(100))]) == Decimal("8.80")


def test_play_money_cannot_be_backtested_or_scanned() -> None:
    with pytest.raises(ConfigError, match="play money"):
        venue_cost("manifold")
    with pytest.raises(NotExecutableError):
        fee_model("manifold")


def test_venue_descriptions() -> None:
    assert not describe("manifold").executable and describe("kalshi").executable
    assert describe("kalshi").close_times_reliable is False and describe("polymarket").close_times_reliable
    assert describe("polymarket").neg_risk and not describe("kalshi").neg_risk
    assert describe("some_new_venue").executable and describe("some_new_venue").fee_schedule is None


def test_venue_facts_replace_name_branches() -> None:
    """Kalshi's ticker layout, its series field and the stored kind come from the description."""
    from oneprice.alignment.labels import event_of
    from oneprice.ingest.store import venue_rows

    assert event_of("kalshi", "KXFED-25MAR-T4.25") == "KXFED-25MAR" and event_of("kalshi", "KXFED") is None
    assert event_of("polymarket", "will-x-happen") is None
    assert describe("kalshi").series_field == "event_ticker" and describe("polymarket").series_field is None
    rows = {r["name"]: r for r in venue_rows(["kalshi", "manifold", "binance", "predictit"])}
    assert rows["kalshi"] == {"name": "kalshi", "kind": "prediction", "executable": True}
    assert rows["manifold"]["kind"] == "prediction" and rows["manifold"]["executable"] is False
    assert rows["binance"] == {"name": "binance", "kind": "crypto", "executable": True}  # bars' exchange
    from types import SimpleNamespace as NS

    from oneprice.arbitrage.store import series

    k = NS(venue="kalshi", extra={"event_ticker": "KXFED-25MAR"})
    pm = NS(venue="polymarket", extra={"event_ticker": "not-a-series"})
    assert series(NS(pair=NS(market_a=pm, market_b=k))) == "kalshi:KXFED"  # the scan's fallback category
    assert series(NS(pair=NS(market_a=pm, market_b=pm))) == ""
    with pytest.raises(KeyError):
        fee_model("some_new_venue")
    assert tick_of("kalshi", 1) == Decimal("0.01") and tick_of("polymarket", "0.001") == Decimal("0.001")
    assert tick_of("polymarket", None) == Decimal("0.01") and tick_of("polymarket", "x") == Decimal("0.01")
