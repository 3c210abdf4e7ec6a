"""Risk is code, not an LLM opinion: an ATR stop and target and a volatility-scaled size."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RiskRules:
    stop_atr: float = 1.5  # stop this many ATR against the entry
    target_atr: float = 2.0  # target this many ATR in favour
    risk_per_trade: float = 0.01  # fraction of equity lost if the stop is hit
    max_size: float = 1.0  # cap on notional / equity


@dataclass(frozen=True)
class Plan:
    stop: float
    target: float
    size: float  # notional as a fraction of equity


def plan(decision: str, entry: float, atr: float, rules: RiskRules | None = None) -> Plan | None:
    """Stop, target and size for LONG / SHORT at ``entry``; None for ABSTAIN or no usable ATR."""
    r = rules or RiskRules()
    if decision not in ("LONG", "SHORT") or not (atr > 0 and entry > 0):
        return None
    side = 1.0 if decision == "LONG" else -1.0
    stop_dist = r.stop_atr * atr
    size = min(r.max_size, r.risk_per_trade / (stop_dist / entry))
    return Plan(entry - side * stop_dist, entry + side * r.target_atr * atr, size)
