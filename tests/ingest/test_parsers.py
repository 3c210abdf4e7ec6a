"""Pure parsers against the recorded real payloads (and doc-built fixtures), plus property tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oneprice.core import ParseError
from oneprice.ingest.parsers import ccxt_data, kalshi, manifold, polymarket, predictit, snapshot

from .conftest import load

TS = datetime(2026, 1, 1, tzinfo=UTC)


# ---------------------------------------------------------------- Kalshi
def test_kalshi_real_markets_dollars_agree_with_cents() -> None:
    rows = load("kalshi/markets_raw_v2.json")
    for r in rows:
        m, quotes = kalshi.parse_market(r, TS)
        assert m.venue == "kalshi" and m.market_id == r["ticker"]
        assert m.extra["event_ticker"] == r["event_ticker"] and m.extra["tick_size"] == "0.01"
        assert m.rules.startswith(r["rules_primary"])
        for key in ("yes_bid", "yes_ask", "no_bid", "no_ask", "last_price"):
            legacy = {key: r[key]}
            assert kalshi.price(legacy, key) == kalshi.price(r, key) == Decimal(r[f"{key}_dollars"])
        assert [q.outcome for q in quotes] == ["Yes", "No"]


def test_kalshi_quotes_drop_sentinel_prices() -> None:
    r = dict(load("kalshi/markets_raw_v2.json")[0])  # inactive: yes ask 0, no bid/ask 100c
    _, (yes, no) = kalshi.parse_market(r, TS)
    assert yes.ask is None and no.bid is None and no.ask is None


def test_kalshi_events_nested_markets_with_dollar_floats() -> None:
    ev = load("kalshi/events_pirodax.json")[1]
    e = kalshi.parse_event(ev)
    assert e.event_id == "KXNEWPOPE-70" and e.category == "World"
    m, (yes, no) = kalshi.parse_market(ev["markets"][0], TS, ev)
    assert m.event_id == "KXNEWPOPE-70" and "Fridolin Ambongo" in m.question
    assert (yes.bid, yes.ask, no.bid, no.ask) == (
        Decimal("0.04"),
        Decimal("0.06"),
        Decimal("0.94"),
        Decimal("0.96"),
    )


def test_kalshi_event_ticker_derived_when_missing() -> None:
    r = {k: v for k, v in load("kalshi/markets_raw_v2.json")[3].items() if k != "event_ticker"}
    m, _ = kalshi.parse_market(r, TS)
    assert m.event_id == r["ticker"].rsplit("-", 1)[0]


def test_kalshi_orderbook_fp_and_legacy_agree_and_derive_asks() -> None:
    fp = kalshi.parse_orderbook(load("kalshi/orderbook_fp.json"), "T", TS)
    legacy = kalshi.parse_orderbook(load("kalshi/orderbook_legacy.json"), "T", TS)
    assert fp == legacy
    yes, no = fp
    assert (yes.outcome, no.outcome) == ("Yes", "No")
    assert yes.best_bid == Decimal("0.42") and yes.best_ask == Decimal("0.44")  # 1 - best NO bid 0.56
    assert no.best_bid == Decimal("0.56") and no.best_ask == Decimal("0.58")  # 1 - best YES bid 0.42
    assert yes.asks[0].size == Decimal(17) and yes.cost_to_buy(Decimal(20)).worst_price == Decimal("0.55")


def test_kalshi_candlesticks_real() -> None:
    quotes, rejects = kalshi.parse_candlesticks(load("kalshi/candlesticks_raw.json"), "KXNYKCOACH-25-MNORI")
    assert len(quotes) == 11 and not rejects
    assert quotes[0].ts == datetime.fromtimestamp(1751083200, UTC)
    assert (quotes[0].bid, quotes[0].ask, quotes[0].last) == (Decimal("0.03"), Decimal("0.06"), None)


@given(st.integers(min_value=0, max_value=100))
def test_kalshi_cents_equal_dollars(cents: int) -> None:
    assert kalshi.price({"p": cents}, "p") == kalshi.price({"p_dollars": f"{cents / 100:.4f}"}, "p")
    assert kalshi.price({"p": cents, "p_dollars": f"{cents / 100:.4f}"}, "p") == Decimal(cents) / 100


@given(st.one_of(st.integers(min_value=101, max_value=10**6), st.integers(max_value=-1), st.booleans()))
def test_kalshi_bad_cents_rejected(v: int) -> None:
    with pytest.raises(ParseError) as err:
        kalshi.price({"p": v}, "p")
    assert err.value.reason == "bad_price:p"


ladder = st.lists(
    st.tuples(st.integers(min_value=1, max_value=99), st.integers(min_value=1, max_value=10_000)),
    max_size=12,
    unique_by=lambda t: t[0],
)


@given(ladder, ladder)
def test_kalshi_book_invariants(yes: list[tuple[int, int]], no: list[tuple[int, int]]) -> None:
    y, n = kalshi.parse_orderbook({"orderbook": {"yes": yes, "no": no}}, "T", TS)
    for b in (y, n):
        assert all(a.price > c.price for a, c in zip(b.bids, b.bids[1:], strict=False))
        assert all(a.price < c.price for a, c in zip(b.asks, b.asks[1:], strict=False))
    if no:
        assert y.best_ask == 1 - Decimal(max(p for p, _ in no)) / 100
        assert n.best_bid is not None and y.best_ask + n.best_bid == 1
    if yes:
        assert n.best_ask == 1 - Decimal(max(p for p, _ in yes)) / 100
    assert y.depth("ask") == n.depth("bid") == sum(s for _, s in no)


def test_kalshi_bad_records() -> None:
    good = load("kalshi/markets_raw_v2.json")[5]
    cases = {
        "missing_field:ticker": {k: v for k, v in good.items() if k != "ticker"},
        "bad_type:title": {**good, "title": ["not", "text"]},
        "bad_price:yes_bid_dollars": {**good, "yes_bid_dollars": "1.7"},
        "bad_time:close_time": {**good, "close_time": "next tuesday"},
        "bad_type:market": ["not", "an", "object"],
    }
    for reason, rec in cases.items():
        with pytest.raises(ParseError) as err:
            kalshi.parse_market(rec, TS)
        assert err.value.reason == reason


# ---------------------------------------------------------------- Polymarket
def test_polymarket_gamma_market_named_outcomes() -> None:
    raw = load("polymarket/gamma_market.json")
    m, quotes = polymarket.parse_market(raw, TS)
    tokens = json.loads(raw["clobTokenIds"])
    assert m.market_id == raw["conditionId"] and m.event_id == "260654"
    assert m.outcome("Up").token_id == tokens[0] and m.outcome("Down").price == Decimal("0.495")
    assert m.extra["tick_size"] == "0.01" and m.extra["neg_risk"] is False and m.extra["slug"] == raw["slug"]
    assert m.rules.startswith('This market will resolve to "Up"')
    assert quotes == []  # Gamma's best bid/ask quote a "Yes" token; this market has none


def test_polymarket_outcomes_mapped_by_name_not_position() -> None:
    raw = dict(load("polymarket/events_pirodax.json")[0]["markets"][2])
    m1, _ = polymarket.parse_market(raw, TS)
    swapped = {
        **raw,
        "outcomes": raw["outcomes"][::-1],
        "outcome_prices": raw["outcome_prices"][::-1],
        "clob_token_ids": raw["clob_token_ids"][::-1],
    }
    m2, _ = polymarket.parse_market(swapped, TS)
    for name in ("Yes", "No"):
        assert m1.outcome(name) == m2.outcome(name)


def test_polymarket_event_neg_risk_and_fees() -> None:
    ev = load("polymarket/gamma_event.json")[0]
    e = polymarket.parse_event(ev)
    assert e.extra["neg_risk"] and e.extra["neg_risk_augmented"]
    for raw in ev["markets"]:
        m, quotes = polymarket.parse_market(raw, TS, ev)
        assert m.extra["neg_risk"] and m.extra["neg_risk_augmented"] and m.extra["tick_size"] == "0.001"
        assert m.extra["fee_rate"] == 0.0 and m.event_id == ev["id"]
        assert quotes[0].outcome == "Yes" and quotes[0].bid is not None


def test_polymarket_fee_schedule() -> None:
    raw = {
        **load("polymarket/gamma_market.json"),
        "feeSchedule": {"rate": "0.072", "exponent": "1", "takerOnly": True},
    }
    m, _ = polymarket.parse_market(raw, TS)
    assert (m.extra["fee_rate"], m.extra["fee_exponent"]) == (0.072, 1.0)


def test_polymarket_closed_and_snake_case() -> None:
    m, _ = polymarket.parse_market(load("polymarket/gamma_market_closed_binary_accepting_true.json"), TS)
    assert m.status == "closed" and m.outcome("Yes").price == 1
    for raw in load("polymarket/markets_pirodax.json"):
        m, _ = polymarket.parse_market(raw, TS)
        assert m.market_id == raw["condition_id"] and m.outcome("Yes").token_id == raw["clob_token_ids"][0]


def test_polymarket_bad_records() -> None:
    good = load("polymarket/gamma_market.json")
    cases = {
        "missing_field:conditionId": {k: v for k, v in good.items() if k != "conditionId"},
        "bad_json_field:outcomes": {**good, "outcomes": '["Up", "Down"'},
        "outcome_length_mismatch": {**good, "outcomePrices": '["0.5"]'},
        "bad_type:negRisk": {**good, "negRisk": "maybe"},
        "bad_price:outcomePrices": {**good, "outcomePrices": '["1.5", "-0.5"]'},
    }
    for reason, rec in cases.items():
        with pytest.raises(ParseError) as err:
            polymarket.parse_market(rec, TS)
        assert err.value.reason == reason


def test_polymarket_book_and_history() -> None:
    b = polymarket.parse_book(load("polymarket/book_up.json"), "c", "Up", TS)
    assert b.best_bid == Decimal("0.50") and b.best_ask == Decimal("0.51")
    assert b.ts == datetime(2026, 3, 12, 9, 18, 0, 123000, tzinfo=UTC)
    quotes, rejects = polymarket.parse_prices_history(load("polymarket/prices_history.json"), "c", "Up")
    assert len(quotes) == 12 and not rejects and quotes[0].last == Decimal("0.5")


# ---------------------------------------------------------------- Manifold, PredictIt, ccxt, snapshot
def test_manifold_play_money_and_types() -> None:
    rows = load("manifold/markets.json")
    m, quotes = manifold.parse_market(rows[0], TS)
    assert not m.executable and m.outcome("Yes").price == Decimal("0.3217") and m.status == "open"
    assert quotes[1].last == Decimal("0.6783")
    assert manifold.parse_market(rows[1], TS)[0].status == "settled"
    with pytest.raises(ParseError, match="unsupported_outcome_type:MULTIPLE_CHOICE"):
        manifold.parse_market(rows[2], TS)


def test_predictit_contracts_as_binary_markets() -> None:
    markets, quotes, rejects = predictit.parse_all(load("predictit/all.json"), TS)
    assert [m.market_id for m in markets] == ["8069:32203", "8069:32204", "8156:32580"] and not rejects
    assert markets[0].question.endswith(": Democratic") and markets[0].extra == {
        "market_id": "8069",
        "contract_id": "32203",
    }
    assert markets[2].close_time == datetime(2026, 4, 1, 3, 59, tzinfo=UTC)  # 23:59 Eastern (EDT)
    yes, no = quotes[0], quotes[1]
    assert (yes.bid, yes.ask, no.bid, no.ask) == (
        Decimal("0.7"),
        Decimal("0.72"),
        Decimal("0.28"),
        Decimal("0.3"),
    )
    assert yes.ts == datetime(2026, 3, 11, 14, 14, 21, 623318, tzinfo=UTC)
    bad = load("predictit/all.json")
    bad["markets"][0]["contracts"][1]["bestBuyYesCost"] = "a lot"
    del bad["markets"][1]["contracts"]
    markets, _, rejects = predictit.parse_all(bad, TS)
    assert len(markets) == 1 and sorted(e.reason for e in rejects) == [
        "bad_price:bestBuyYesCost",
        "missing_field:contracts",
    ]


def test_ccxt_rows() -> None:
    b = ccxt_data.parse_ohlcv(
        [1634943780000, 60685.22, 60729.84, 60670.9, 60719.27, 21.63272], "binance", "BTC/USDT", "1m"
    )
    assert b.ts == datetime(2021, 10, 22, 23, 3, tzinfo=UTC) and b.close == 60719.27
    for row, reason in [
        ([1, 2, 3], "bad_bar:shape"),
        ([1, 5, 4, 3, 4, 1], "bad_bar:inconsistent"),
        ([1, "x", 5, 3, 4, 1], "bad_number:open"),
        ([1, None, 5, 3, 4, 1], "bad_type:open"),
    ]:
        with pytest.raises(ParseError) as err:
            ccxt_data.parse_ohlcv(row, "binance", "BTC/USDT", "1m")
        assert err.value.reason == reason


def test_snapshot_records() -> None:
    m = snapshot.parse_market(
        {"venue": "kalshi", "id": "KXFEDDECISION-25MAR-H0", "question": "Q", "listing": "2025-02-11"}, TS
    )
    assert m.event_id == "KXFEDDECISION-25MAR" and m.extra["source"] == "replay" and m.status == "open"
    yes, no = snapshot.parse_quotes(
        {
            "venue": "kalshi",
            "id": "X",
            "ts": "2025-02-11T01:39:23Z",
            "yes_bid": "0.0",
            "yes_ask": "0.03",
            "no_bid": "0.97",
            "no_ask": "1.0",
        }
    )
    assert yes.bid is None and yes.ask == Decimal("0.03") and no.ask is None
    book = snapshot.one_level_book(yes, Decimal(100))
    assert book.bids == () and book.asks[0].size == 100
    with pytest.raises(ParseError, match="unknown_venue"):
        snapshot.parse_market({"venue": "betfair", "id": "1", "question": "Q"}, TS)
