from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oneprice.core import (
    Level,
    Market,
    OrderBook,
    Outcome,
    ParseError,
    RateLimitedError,
    TransientError,
    to_prob,
    utc,
)

TS = datetime(2025, 2, 11, tzinfo=UTC)
prices = st.decimals(min_value="0.01", max_value="0.99", places=2)
sizes = st.decimals(min_value="1", max_value="1000", places=0)
levels = st.lists(st.builds(Level, prices, sizes), min_size=0, max_size=8)


def test_to_prob_accepts_probabilities_and_rejects_the_rest() -> None:
    assert to_prob("0.42") == Decimal("0.42")
    assert to_prob(1) == Decimal(1)
    for bad in ("1.01", "-0.1", "abc", None, True, "nan", "inf"):
        with pytest.raises(ValueError):
            to_prob(bad)


def test_utc_normalises_naive_and_offset_datetimes() -> None:
    assert utc(datetime(2025, 1, 1, 12)).tzinfo == UTC
    est = timezone(timedelta(hours=-5))
    assert utc(datetime(2025, 1, 1, 7, tzinfo=est)) == datetime(2025, 1, 1, 12, tzinfo=UTC)


def test_outcomes_are_found_by_name_not_position() -> None:
    m = Market("polymarket", "0xabc", "Q?", outcomes=(Outcome("No", "t2"), Outcome("Yes", "t1")))
    assert m.outcome("yes").token_id == "t1"
    with pytest.raises(KeyError):
        m.outcome("Maybe")


def test_two_level_walk_by_hand() -> None:
    book = OrderBook.build(
        "kalshi",
        "T",
        "Yes",
        TS,
        bids=[Level(Decimal("0.40"), Decimal(50))],
        asks=[Level(Decimal("0.45"), Decimal(10)), Level(Decimal("0.42"), Decimal(100))],
    )
    assert book.best_ask == Decimal("0.42") and book.best_bid == Decimal("0.40")
    fill = book.cost_to_buy(Decimal(105))
    assert fill.cost == Decimal("100") * Decimal("0.42") + Decimal(5) * Decimal("0.45")  # 42 + 2.25
    assert fill.cost == Decimal("44.25") and fill.levels_used == 2 and fill.complete
    short = book.cost_to_buy(Decimal(500))
    assert short.filled == Decimal(110) and not short.complete
    assert book.proceeds_to_sell(Decimal(10)).cost == Decimal("4.00")


@given(asks=levels, size=sizes)
def test_walk_cost_is_monotone_and_average_price_never_improves(asks: list[Level], size: Decimal) -> None:
    book = OrderBook.build("v", "m", "Yes", TS, bids=[], asks=asks)
    small = book.cost_to_buy(size)
    big = book.cost_to_buy(size + 1)
    assert big.cost >= small.cost
    assert small.filled <= book.depth("ask")
    if small.filled and big.filled > small.filled:
        assert big.avg_price is not None and small.avg_price is not None
        assert big.avg_price >= small.avg_price
    if book.best_ask is not None and small.filled:
        assert small.avg_price is not None and small.avg_price >= book.best_ask


@given(bids=levels, asks=levels)
def test_build_sorts_best_first(bids: list[Level], asks: list[Level]) -> None:
    book = OrderBook.build("v", "m", "Yes", TS, bids=bids, asks=asks)
    assert [lv.price for lv in book.bids] == sorted((lv.price for lv in book.bids), reverse=True)
    assert [lv.price for lv in book.asks] == sorted(lv.price for lv in book.asks)


def test_error_taxonomy() -> None:
    e = RateLimitedError("slow down", retry_after=2.5)
    assert isinstance(e, TransientError) and e.retry_after == 2.5
    p = ParseError("missing_field:ticker", "no ticker", record_id="abc")
    assert p.reason == "missing_field:ticker" and "no ticker" in str(p)
