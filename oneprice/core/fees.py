"""Venue fee schedules, each a small pure function in Decimal dollars.

Sources (checked 2026-11-25):
- Kalshi: fee = ceil-to-cent(rate x C x P x (1 - P)), rate 0.07 for takers, 0.0175 for makers
  (Kalshi fee schedule, as summarised by research.capitola.xyz/kalshi-fees and
  agentbets.ai/guides/kalshi-fees-guide: 100 contracts at $0.50 pay $1.75 as taker).
- Polymarket: fee = C x feeRate x (p x (1 - p)) ** exponent, takers only, with the market's own
  feeSchedule rate and exponent, floored to 5 decimals (docs.polymarket.com/trading/fees, as cited by
  the NautilusTrader Polymarket adapter's ``compute_commission``). Markets without a schedule pay 0.
- PredictIt: 10% of the profit on each share that pays out, and 5% of any amount withdrawn
  (predictit.org fee terms, as summarised by defirate.com/learn/prediction-market-fees).
- Manifold: play money (mana), never executable.

A fee model takes the fills of one leg as ``(price, contracts)`` pairs (one per book level) and
returns the fee for the whole order. The scanner, the deviations and the convergence backtest all
charge these, through ``oneprice.core.venues`` (a venue names its schedule in its description). To
add a venue, write its function here and describe the venue there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from oneprice.core.types import ONE, ZERO

CENT = Decimal("0.01")
KALSHI_TAKER = Decimal("0.07")
KALSHI_MAKER = Decimal("0.0175")
PREDICTIT_PROFIT = Decimal("0.10")
PREDICTIT_WITHDRAWAL = Decimal("0.05")
POLY_QUANTUM = Decimal("0.00001")

Fill = tuple[Decimal, Decimal]  # (price, contracts)
FeeModel = Callable[[Sequence[Fill], bool], Decimal]  # (fills, exact) -> fee in dollars


class NotExecutableError(ValueError):
    """The venue does not trade real money (play-money venues)."""


def ceil_cent(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_CEILING)


def kalshi_fee(contracts: Decimal, price: Decimal, maker: bool = False, exact: bool = False) -> Decimal:
    """Kalshi trading fee for ``contracts`` at ``price``: ceil to the cent of rate x C x P x (1 - P)."""
    raw = (KALSHI_MAKER if maker else KALSHI_TAKER) * contracts * price * (ONE - price)
    return raw if exact else ceil_cent(raw)


def kalshi_order_fee(fills: Sequence[Fill], exact: bool = False, maker: bool = False) -> Decimal:
    """Fee of one Kalshi order that sweeps several levels: the per-fill fees summed, rounded up once.

    Kalshi's fee accumulator rebates rounding overpayment so that many fills cost what one
    equivalent fill would; we round the order's total up to the cent (never below the true charge).
    """
    raw = sum((kalshi_fee(c, p, maker=maker, exact=True) for p, c in fills), ZERO)
    return raw if exact else ceil_cent(raw)


def polymarket_fee(contracts: Decimal, price: Decimal, rate: Decimal, exponent: Decimal) -> Decimal:
    """Polymarket taker fee C x rate x (p(1 - p)) ** exponent, unrounded; zero when ``rate`` is 0."""
    if rate <= 0 or contracts <= 0:
        return ZERO
    base = price * (ONE - price)
    if base <= 0:
        return ZERO
    return contracts * rate * (base**exponent)


def polymarket_order_fee(
    fills: Sequence[Fill], rate: Decimal, exponent: Decimal, exact: bool = False
) -> Decimal:
    """Sum of the per-fill taker fees, floored to 5 decimals as the venue charges."""
    raw = sum((polymarket_fee(c, p, rate, exponent) for p, c in fills), ZERO)
    return raw if exact else raw.quantize(POLY_QUANTUM, rounding=ROUND_FLOOR)


def predictit_fee(contracts: Decimal, price: Decimal, withdraw: bool = True) -> Decimal:
    """PredictIt fees on shares bought at ``price`` that pay $1: 10% of profit, then 5% of the withdrawal.

    Conservative for arbitrage: it assumes the PredictIt leg is the one that pays out and that the
    proceeds are withdrawn.
    """
    profit = contracts * (ONE - price)
    profit_fee = PREDICTIT_PROFIT * profit
    if not withdraw:
        return profit_fee
    payout = contracts - profit_fee  # what lands in the account: stake back plus net profit
    return profit_fee + PREDICTIT_WITHDRAWAL * payout


def predictit_order_fee(fills: Sequence[Fill], exact: bool = False) -> Decimal:
    fee = sum((predictit_fee(c, p) for p, c in fills), ZERO)
    return fee if exact else ceil_cent(fee)


def _dec(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        d = Decimal(str(value))
    except ArithmeticError:
        return None
    return d if d.is_finite() else None


def polymarket_schedule(extra: Mapping[str, Any]) -> tuple[Decimal, Decimal]:
    """(rate, exponent) from ``Market.extra``; rate 0 where the market has no fee schedule."""
    rate = _dec(extra.get("fee_rate")) or ZERO
    exponent = _dec(extra.get("fee_exponent"))
    return max(rate, ZERO), (exponent if exponent is not None and exponent > 0 else ONE)


SCHEDULES: dict[str, Callable[[Mapping[str, Any]], FeeModel]] = {
    "kalshi": lambda _extra: lambda fills, exact: kalshi_order_fee(fills, exact=exact),
    "polymarket": lambda extra: (
        lambda fills, exact: polymarket_order_fee(fills, *polymarket_schedule(extra), exact=exact)
    ),
    "predictit": lambda _extra: lambda fills, exact: predictit_order_fee(fills, exact=exact),
}
