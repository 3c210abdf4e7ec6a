"""One fee and slippage model shared by both engines.

Fees: ``fee`` is a fraction of traded notional, ``fixed`` a cash amount per order, and ``pm_fee`` the
prediction-market fee that scales with ``price * (1 - price)`` per contract (Kalshi charges 0.07).
``fee_step`` rounds each order's fee up to a cash increment (0.01 for cents; 0 keeps it exact);
``pm_exp`` raises ``price * (1 - price)`` to a power (Polymarket's fee schedules).
Slippage: fills are ``slippage`` (a fraction of price) worse than the reference price, against the
trader. Settlement at resolution pays 0 or 1 per contract and carries no fee.

The arithmetic for all-in buys and sells lives in plain functions (``buy_all``, ``sell_size``) that
the vectorised engine compiles with numba and the event engine calls as Python, so both engines do
the very same float operations and produce identical trades.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Any

import numba
import numpy as np


@dataclass(frozen=True)
class CostModel:
    fee: float = 0.0
    fixed: float = 0.0
    slippage: float = 0.0
    pm_fee: float = 0.0
    fee_step: float = 0.0
    pm_exp: float = 1.0

    def __post_init__(self) -> None:
        for name in ("fee", "fixed", "slippage", "pm_fee", "fee_step", "pm_exp"):
            v = float(getattr(self, name))
            if not math.isfinite(v) or v < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
        if self.fee >= 0.5 or self.slippage >= 0.5:
            raise ValueError("fee and slippage are fractions of price (0.001 = 0.1%), must be < 0.5")

    def _c(self, name: str, like: Any) -> Any:
        v = getattr(self, name)
        return Decimal(str(v)) if isinstance(like, Decimal) else float(v)

    def fill_price(self, price: Any, side: int) -> Any:
        """Price after slippage for a buy (side=+1) or a sell (side=-1); Decimal in, Decimal out."""
        return price * (1 + side * self._c("slippage", price))

    def fee_for(self, size: Any, price: Any) -> Any:
        """Fee of one order of ``size`` units at ``price`` (size sign ignored)."""
        size = abs(size)
        if size == 0:
            return size * 0
        f = size * price * self._c("fee", price) + self._c("fixed", price)
        if self.pm_fee:
            base = price * (1 - price)
            f = f + self._c("pm_fee", price) * size * (
                base if self.pm_exp == 1 else base ** self._c("pm_exp", price)
            )
        if self.fee_step:
            step = self._c("fee_step", price)
            if isinstance(f, Decimal):
                f = (f / step).to_integral_value(rounding=ROUND_CEILING) * step
            else:
                f = math.ceil(f / step - 1e-9) * step
        return f

    def fee_for_fills(self, fills: Sequence[tuple[Any, Any]]) -> Any:
        """Fee of one order filled at several (price, size) levels: exact per level, rounded once."""
        if not fills:
            return 0.0
        raw = CostModel(self.fee, 0.0, 0.0, self.pm_fee, 0.0, self.pm_exp)
        f = sum((raw.fee_for(q, p) for p, q in fills), fills[0][1] * 0) + self._c("fixed", fills[0][0])
        if self.fee_step:
            step = self._c("fee_step", f)
            if isinstance(f, Decimal):
                return (f / step).to_integral_value(rounding=ROUND_CEILING) * step
            return math.ceil(f / step - 1e-9) * step
        return f

    @property
    def linear(self) -> bool:
        """True when fees are linear in notional (what the vectorised engine supports)."""
        return not self.pm_fee and not self.fee_step


def buy_all(cash: float, price: float, fee: float, fixed: float, unit: float) -> tuple[float, float, float]:
    """Spend up to ``cash`` on a buy at ``price``: returns (size, cash spent incl. fees, fee).

    Size is as large as cash allows after fees; ``unit`` > 0 floors it to whole units (lots).
    """
    budget = (cash - fixed) / (1.0 + fee)
    if budget <= 0.0 or price <= 0.0:
        return 0.0, 0.0, 0.0
    size = budget / price
    if unit > 0.0:
        size = float(np.floor(size / unit)) * unit  # a float floor: math.floor overflows int64 in numba
        notional = size * price
        fee_paid = notional * fee + fixed
        return size, notional + fee_paid, fee_paid
    return size, cash, cash - budget


def sell_size(size: float, price: float, fee: float, fixed: float) -> tuple[float, float]:
    """Sell ``size`` at ``price``: returns (cash received net of fees, fee)."""
    proceeds = size * price
    fee_paid = proceeds * fee + fixed
    return proceeds - fee_paid, fee_paid


buy_all_nb = numba.njit(cache=True)(buy_all)
sell_size_nb = numba.njit(cache=True)(sell_size)
