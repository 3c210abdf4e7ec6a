"""Cross-venue convergence on a matched pair of binary markets (event engine, Decimal money).

A complete set (``matches.outcome_map`` convention) is A:``a`` plus B:``outcome_map[other(a)]``; it
pays exactly 1 per contract at resolution. On each quote update the strategy prices both sets at
the asks, walking no further than the recorded depth, with each venue's fees. It buys the better set
when its executable edge per contract (1 - cost incl. fees) reaches ``threshold``, then holds it to
settlement, or (``hold=0``) sells both legs at the bids once that nets at least ``1 - exit_gap`` per
contract after fees (the gap has closed). Settlement pays 0 or 1 per contract, no fee.

A matched pair is not certain to settle alike: the match's P(same proposition) (``PairData.p_same``;
a human-confirmed match is credited ``ONEPRICE_ARB_CONFIRMED_CONFIDENCE``) prices that risk. A set is
entered only when its edge net of the expected mismatch loss, (1 - P(same)) x ``mismatch_loss``,
reaches ``threshold``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from oneprice.backtest.costs import CostModel
from oneprice.backtest.events import Broker, Instrument, run_events
from oneprice.backtest.result import BacktestResult
from oneprice.backtest.strategies import Param
from oneprice.core import venues
from oneprice.core.errors import ConfigError
from oneprice.core.fees import FeeModel, NotExecutableError
from oneprice.core.match import HEDGEABLE
from oneprice.core.match import complete_sets as relation_sets
from oneprice.core.pricing import Leg as PricedLeg
from oneprice.core.pricing import walk_set
from oneprice.core.types import Level, OrderBook

D0, D1 = Decimal(0), Decimal(1)

PARAMS = {
    "threshold": Param(0.02, float, 0, 1, "enter when edge per contract after fees >= this"),
    "contracts": Param(100, int, 1, 10_000_000, "contracts per set (capped by depth and cash)"),
    "hold": Param(1, int, 0, 1, "1: hold to settlement; 0: exit when the gap closes"),
    "exit_gap": Param(0.0, float, 0, 1, "exit when selling nets >= 1 - exit_gap per contract"),
    "mismatch_loss": Param(
        1.0, float, 0, 1, "$ per contract lost if the two markets settle differently (priced by P(same))"
    ),
}


@dataclass(frozen=True)
class VenueCost(CostModel):
    """A leg's costs: the venue's own taker fee schedule (the scanner's, ``oneprice.core.venues``) plus
    any extra notional ``fee``. Decimal in, Decimal out."""

    venue_fee: FeeModel | None = None

    @property
    def linear(self) -> bool:
        return False

    def fee_for(self, size: Any, price: Any) -> Any:
        return self.fee_for_fills([(price, abs(size))])

    def fee_for_fills(self, fills: Sequence[tuple[Any, Any]]) -> Any:
        base = CostModel.fee_for_fills(self, fills) if self.fee or self.fixed else Decimal(0)
        if self.venue_fee is None or not fills:
            return base
        dec = [(Decimal(str(p)), Decimal(str(abs(q)))) for p, q in fills]
        return Decimal(str(base)) + self.venue_fee(dec, False)


def venue_cost(venue: str, extra: dict[str, Any] | None = None, fee: float = 0.0) -> CostModel:
    """The venue's taker fees (Kalshi ceil-to-cent 0.07 x C x P(1 - P), Polymarket its market's schedule,
    PredictIt 10% of profit and 5% on withdrawal) plus a notional ``fee``; the same model the scanner
    charges. A venue without a schedule pays the notional ``fee`` only; play money cannot be traded."""
    try:
        model = venues.fee_model(venue, extra or {})
    except NotExecutableError as exc:
        raise ConfigError(f"cannot backtest a trade on {venue}: {exc}") from None
    except KeyError:
        model = None
    return VenueCost(fee=fee, venue_fee=model)


@dataclass
class Leg:
    """One outcome of one market: its quote history on the pair's index, venue fees, resolution."""

    name: str  # e.g. "A:Yes"
    quotes: pd.DataFrame  # bid, ask, bid_size, ask_size (Decimal or None), indexed like the pair
    cost: CostModel
    payout: Decimal | None = None  # 0 or 1 once the market resolved


@dataclass
class PairData:
    index: pd.DatetimeIndex
    legs: dict[str, Leg]
    sets: list[tuple[str, str]]  # complete sets as (leg name on A, leg name on B)
    settle_at: int | None = None
    label: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    p_same: float = 1.0  # the chance the two markets settle alike (the match's P(same proposition))


def complete_sets(relation: str, outcome_map: dict[str, str]) -> list[tuple[str, str]]:
    """[(A leg, B leg)] of each complete set of a hedgeable pair (``oneprice.core.match``)."""
    if relation not in HEDGEABLE:
        return []
    return [(f"A:{a}", f"B:{b}") for a, b, _kind in relation_sets(relation, outcome_map)]


def _col(q: pd.DataFrame, c: str, i: int) -> Any:
    v = q[c].iat[i] if c in q else None
    return None if v is None or (isinstance(v, float) and np.isnan(v)) else Decimal(str(v))


def _book_leg(name: str, leg: Leg, i: int, size: Decimal, ts: datetime) -> PricedLeg | None:
    """The leg's recorded best ask at bar ``i`` as a one-level book (``size`` deep where none is recorded)."""
    ask = _col(leg.quotes, "ask", i)
    if ask is None or ask <= 0:
        return None
    depth = _col(leg.quotes, "ask_size", i)
    book = OrderBook(name, name, "ask", ts, asks=(Level(ask, size if depth is None else depth),))
    return PricedLeg(name, name, name, book, lambda fills, _exact: leg.cost.fee_for_fills(fills))


def set_edges(pair: PairData, i: int, contracts: Decimal) -> list[tuple[Decimal, Decimal, tuple[str, str]]]:
    """(edge per contract after fees, size, set) of each complete set at bar ``i``, best first: the
    scanner's complete-set pricing (``oneprice.core.pricing``) on the recorded top of book."""
    out = []
    for a, b in pair.sets:
        ts = pd.Timestamp(pair.index[i]).to_pydatetime()
        legs = [_book_leg(x, pair.legs[x], i, contracts, ts) for x in (a, b)]
        if legs[0] is None or legs[1] is None:
            continue
        n = min([contracts, *(leg.depth for leg in legs if leg is not None)])
        if n <= 0:
            continue
        fill = walk_set([leg for leg in legs if leg is not None], n)
        out.append((fill.edge, n, (a, b)))
    return sorted(out, key=lambda t: t[0], reverse=True)


def run_convergence(pair: PairData, params: dict[str, Any], cash: Decimal = Decimal(1000)) -> BacktestResult:
    """Backtest the convergence strategy on ``pair``; cash and P&L are exact Decimals."""
    p = {k: v.default for k, v in PARAMS.items()} | dict(params)
    threshold, want = Decimal(str(p["threshold"])), Decimal(int(p["contracts"]))
    exit_gap = Decimal(str(p["exit_gap"]))
    # the expected loss per contract from the two markets settling differently
    risk = (D1 - Decimal(str(round(pair.p_same, 6)))) * Decimal(str(p["mismatch_loss"]))
    held: dict[str, Any] = {}

    def on_bar(b: Broker) -> None:
        if held.get("set"):
            if p["hold"]:
                return
            a, c = held["set"]
            n = min(b.position(a), b.position(c))
            ba, bc = _col(pair.legs[a].quotes, "bid", b.i), _col(pair.legs[c].quotes, "bid", b.i)
            if n <= 0 or ba is None or bc is None:
                return
            net = n * ba - pair.legs[a].cost.fee_for(n, ba) + n * bc - pair.legs[c].cost.fee_for(n, bc)
            if net >= n * (D1 - exit_gap):
                b.close(a, tag="gap closed")
                b.close(c, tag="gap closed")
                held.clear()
            return
        for edge, n, (a, c) in set_edges(pair, b.i, want):
            if edge - risk < threshold:
                break
            oa, oc = b.buy(a, n, tag="enter"), b.buy(c, n, tag="enter")
            if oa.status == "filled" and oc.status == "filled":
                held["set"] = (a, c)
            elif oa.status == "filled" or oc.status == "filled":  # one leg failed: flatten the other
                b.close(a if oa.status == "filled" else c, tag="unwind")
            break

    instruments = []
    for name, leg in pair.legs.items():
        q = leg.quotes
        cols = {c: [_col(q, c, i) for i in range(len(q))] for c in ("bid", "ask", "bid_size", "ask_size")}
        settle = pair.settle_at if leg.payout is not None else None
        instruments.append(Instrument(name, **cols, settle_at=settle, payout=leg.payout, cost=leg.cost))
    edge = np.array(
        [float(e[0][0]) if (e := set_edges(pair, i, want)) else np.nan for i in range(len(pair.index))]
    )
    meta = {
        "strategy": "convergence",
        "params": p,
        "symbol": pair.label,
        "benchmark": False,
        "price_label": "best executable edge per contract",
        "p_same": pair.p_same,
        "settlement_risk_per_contract": float(risk),
        **pair.meta,
    }
    return run_events(pair.index, instruments, on_bar, CostModel(), cash, fill="close", price=edge, meta=meta)


def _result(market: Any) -> str | None:
    """'Yes'/'No' when the stored market says how it resolved (Kalshi ``result``, or ``extra.result``)."""
    for src in (market.extra or {}, market.raw or {}):
        r = src.get("result") or src.get("resolution")
        if isinstance(r, str) and r.lower() in ("yes", "no"):
            return "Yes" if r.lower() == "yes" else "No"
    return None


def _leg_quotes(engine: Any, market_id: int, outcome: str) -> pd.DataFrame:
    from oneprice.backtest.data import load_quotes

    q = load_quotes(engine, market_id, outcome)
    if len(q) or outcome == "Yes":
        return q
    y = load_quotes(engine, market_id, "Yes")  # derive No from Yes: buy No = sell Yes
    return pd.DataFrame(
        {
            "bid": [None if a is None else D1 - a for a in y["ask"]],
            "ask": [None if b is None else D1 - b for b in y["bid"]],
            "bid_size": y["ask_size"],
            "ask_size": y["bid_size"],
        },
        index=y.index,
    )


def load_pair(engine: Any, match_id: int, fee: float = 0.0) -> PairData:
    """A matched pair's legs from the ``matches``, ``markets`` and ``quotes`` tables."""
    from oneprice.config import get_settings
    from oneprice.core.errors import NotFoundError
    from oneprice.db import Market, Match, session_scope

    with session_scope(engine) as s:
        m = s.get(Match, match_id)
        if m is None:
            ids = [r[0] for r in s.query(Match.id).order_by(Match.id).limit(20)]
            raise NotFoundError(f"no match {match_id}; first stored match ids: {ids or 'none'}")
        ma, mb = s.get(Market, m.market_a_id), s.get(Market, m.market_b_id)
        omap, relation = dict(m.outcome_map or {}), m.relation
        p_same, status = float(m.confidence or 0.0), m.status
        if status == "confirmed":
            p_same = max(p_same, get_settings().arb_confirmed_confidence)
    sets = complete_sets(relation, omap)
    if not sets or ma is None or mb is None:
        raise ValueError(f"match {match_id} ({relation}) has no complete set to trade: outcome_map={omap}")
    legs_q = {}
    for tag, mk in (("A", ma), ("B", mb)):
        for out in ("Yes", "No"):
            legs_q[f"{tag}:{out}"] = (_leg_quotes(engine, mk.id, out), mk)
    stamps = sorted(set().union(*(set(q.index) for q, _ in legs_q.values())))
    if not stamps:
        raise NotFoundError(f"no quote history for match {match_id} (markets {ma.id}, {mb.id})")
    index = pd.DatetimeIndex(stamps)
    close = pd.Timestamp(ma.close_time) if ma.close_time else None
    ra, rb = _result(ma), _result(mb)
    if rb is None and ra is not None:
        rb = omap.get(ra)  # B's outcome that pays exactly when A resolves ``ra``
    if ra is None and rb is not None:
        ra = next((a for a, bo in omap.items() if bo == rb), None)
    settle_at = None
    if ra is not None and rb is not None and close is not None:
        if close > index[-1]:
            index = index.append(pd.DatetimeIndex([close]))
        settle_at = int(index.searchsorted(close))
    legs = {}
    for name, (q, mk) in legs_q.items():
        q = q[~q.index.duplicated(keep="last")].reindex(index).ffill()
        q = q.astype(object).where(q.notna(), None)
        r = ra if name.startswith("A") else rb
        payout = None if r is None else (D1 if name.endswith(r) else D0)
        legs[name] = Leg(name, q, venue_cost(mk.venue, mk.extra, fee), payout)
    label = f"match:{match_id}"
    meta = {
        "match_id": match_id,
        "relation": relation,
        "market_a": f"{ma.venue}:{ma.external_id}",
        "market_b": f"{mb.venue}:{mb.external_id}",
        "resolution_a": ra,
        "match_status": status,
    }
    return PairData(index, legs, sets, settle_at, label, meta, p_same)
