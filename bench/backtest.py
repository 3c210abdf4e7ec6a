"""Bench: oneprice vs vectorbt and backtesting.py, SMA crossover 10/50, 0.1% fee, real BTC/USDT 1h bars.

Each reference runs under its own fill convention and oneprice is configured to match it:
  vectorbt       Portfolio.from_signals: fill at the signal bar's close, all-in with fees, fractional.
  backtesting.py FractionalBacktest (1 satoshi units): market orders at the next bar's open,
                 buy() sizes to the whole equity less commission in whole satoshis.
Trades (entry/exit times and prices) must be identical and final equity within 1e-6 relative.
Timing: each contender's one run = indicators + signals + simulation + trades + final equity, in
this process, after a warm-up run (numba kernels compiled and cached before timing). Then a
1,000-combination sweep (fast 5..54 x slow 60..250 step 10) on local processes.
Last line: one JSON object with the figures issue 5 names.

Run: .venv/bin/python bench/backtest.py   (needs the `bench` extra: vectorbt, backtesting)
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from oneprice.backtest import CostModel, backtest, read_bars_file  # noqa: E402
from oneprice.backtest.sweep import sweep  # noqa: E402

DATA = ROOT / "tests" / "fixtures" / "backtest" / "BTCUSDT_1h.csv.gz"
FAST, SLOW, FEE, CASH, SATOSHI = 10, 50, 0.001, 10_000.0, 1e-8


def timed(fn: Any, repeat: int) -> tuple[float, Any]:
    """Median wall time of ``repeat`` calls (after the caller's warm-up) and the last result."""
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def run_vectorbt(close: pd.Series) -> tuple[pd.DataFrame, float]:
    import vectorbt as vbt

    fast, slow = vbt.MA.run(close, FAST), vbt.MA.run(close, SLOW)
    pf = vbt.Portfolio.from_signals(
        close, fast.ma_crossed_above(slow), fast.ma_crossed_below(slow), fees=FEE, init_cash=CASH, freq="1h"
    )
    rec = pf.trades.records
    idx = close.index
    trades = pd.DataFrame(
        {
            "entry_time": idx[rec["entry_idx"]],
            "entry_price": rec["entry_price"],
            "exit_time": idx[rec["exit_idx"]].where(rec["status"] == 1, pd.NaT),
            "exit_price": rec["exit_price"],
            "size": rec["size"],
            "open": rec["status"] == 0,
        }
    )
    return trades, float(pf.final_value())


def vectorbt_simulator_only(close: pd.Series) -> Any:
    """vectorbt's simulator alone (signals computed beforehand), for a stricter comparison."""
    import vectorbt as vbt

    fast, slow = vbt.MA.run(close, FAST), vbt.MA.run(close, SLOW)
    entries, exits = fast.ma_crossed_above(slow), fast.ma_crossed_below(slow)

    def run() -> float:
        pf = vbt.Portfolio.from_signals(close, entries, exits, fees=FEE, init_cash=CASH, freq="1h")
        _ = pf.trades.records
        return float(pf.final_value())

    return run


def make_bt_strategy() -> Any:
    from backtesting import Strategy
    from backtesting.lib import crossover

    def sma(values: Any, n: int) -> Any:
        return pd.Series(values).rolling(n).mean()

    class SmaCross(Strategy):
        def init(self) -> None:
            self.fast = self.I(sma, self.data.Close, FAST)
            self.slow = self.I(sma, self.data.Close, SLOW)

        def next(self) -> None:
            if crossover(self.fast, self.slow) and not self.position:
                self.buy()
            elif crossover(self.slow, self.fast) and self.position:
                self.position.close()

    return SmaCross


def run_backtesting_py(df: pd.DataFrame, strat: Any) -> tuple[pd.DataFrame, float]:
    from backtesting.lib import FractionalBacktest

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bt = FractionalBacktest(df, strat, cash=CASH, commission=FEE, fractional_unit=SATOSHI)
        stats = bt.run()
    t = stats["_trades"]
    trades = pd.DataFrame(
        {
            "entry_time": pd.DatetimeIndex(t["EntryTime"]),
            "entry_price": t["EntryPrice"].to_numpy(),
            "exit_time": pd.DatetimeIndex(t["ExitTime"]),
            "exit_price": t["ExitPrice"].to_numpy(),
            "size": t["Size"].to_numpy(),
            "open": np.zeros(len(t), dtype=bool),
        }
    )
    return trades, float(stats["Equity Final [$]"])


def run_oneprice(bars: Any, fill: str, unit: float) -> tuple[pd.DataFrame, float]:
    r = backtest(bars, "sma", {"fast": FAST, "slow": SLOW}, CostModel(fee=FEE), CASH, fill=fill, unit=unit)
    t = r.trades
    trades = pd.DataFrame(
        {
            "entry_time": pd.DatetimeIndex(t["entry_time"]),
            "entry_price": t["entry_price"].to_numpy(),
            "exit_time": pd.DatetimeIndex(t["exit_time"]),
            "exit_price": t["exit_price"].to_numpy(),
            "size": t["size"].to_numpy(),
            "open": (t["status"] == "open").to_numpy(),
        }
    )
    return trades, r.final_equity


def compare(ours: pd.DataFrame, ref: pd.DataFrame, name: str, closed_only: bool) -> tuple[bool, float]:
    """Same count, identical entry/exit times, prices equal up to float rounding (1e-12 relative)."""
    if closed_only:  # backtesting.py leaves an open trade out of its trade list
        ours = ours[~ours["open"]].reset_index(drop=True)
    if len(ours) != len(ref):
        print(f"  {name}: trade count differs: oneprice {len(ours)} vs {len(ref)}")
        return False, float("inf")
    same_times = bool((ours["entry_time"].values == ref["entry_time"].values).all()) and bool(
        (
            (ours["exit_time"].values == ref["exit_time"].values) | (ours["open"].values & ref["open"].values)
        ).all()
    )
    closed = ~ours["open"].to_numpy()
    rel = max(
        float(np.max(np.abs(ours["entry_price"].to_numpy() / ref["entry_price"].to_numpy() - 1))),
        float(
            np.max(np.abs(ours["exit_price"].to_numpy()[closed] / ref["exit_price"].to_numpy()[closed] - 1))
        )
        if closed.any()
        else 0.0,
    )
    size_rel = float(np.max(np.abs(ours["size"].to_numpy() / ref["size"].to_numpy() - 1)))
    ok = same_times and rel <= 1e-12
    print(
        f"  {name}: {len(ours)} trades, times identical={same_times}, max price rel diff={rel:.2e}, "
        f"max size rel diff={size_rel:.2e} -> {'MATCH' if ok else 'MISMATCH'}"
    )
    return ok, rel


def main() -> None:
    bars = read_bars_file(DATA, "BTC/USDT", "1h")
    close = pd.Series(bars.close, index=bars.index)
    df = pd.DataFrame(
        {"Open": bars.open, "High": bars.high, "Low": bars.low, "Close": bars.close, "Volume": bars.volume},
        index=bars.index,
    )
    print(f"data: {DATA.relative_to(ROOT)}: {len(bars)} bars {bars.index[0]} .. {bars.index[-1]}")
    print(f"strategy: SMA crossover {FAST}/{SLOW}, fee {FEE:.1%}, cash {CASH:,.0f}")
    bt_strat = make_bt_strategy()

    # warm-up: compiles/loads numba kernels (ours and vectorbt's) before any timing
    run_oneprice(bars, "close", 0.0), run_oneprice(bars, "next_open", SATOSHI)
    run_vectorbt(close), run_backtesting_py(df, bt_strat)
    print("warm-up done (numba JIT compiled/cached for oneprice and vectorbt before timing)")

    sim_only = vectorbt_simulator_only(close)
    sim_only()
    t_vbt, (vbt_trades, vbt_eq) = timed(lambda: run_vectorbt(close), 7)
    t_vbt_sim, _ = timed(sim_only, 7)
    t_op_c, (op_c, op_c_eq) = timed(lambda: run_oneprice(bars, "close", 0.0), 31)
    t_btp, (btp_trades, btp_eq) = timed(lambda: run_backtesting_py(df, bt_strat), 5)
    t_op_o, (op_o, op_o_eq) = timed(lambda: run_oneprice(bars, "next_open", SATOSHI), 31)

    print("\nvs vectorbt (fill at the signal bar's close, fractional all-in):")
    m_vbt, _ = compare(op_c, vbt_trades, "trades", closed_only=False)
    err_vbt = abs(op_c_eq / vbt_eq - 1)
    print(f"  final equity: oneprice {op_c_eq:.6f} vs vectorbt {vbt_eq:.6f} (rel err {err_vbt:.2e})")
    print("vs backtesting.py (next bar's open, FractionalBacktest 1-satoshi units):")
    m_btp, _ = compare(op_o, btp_trades, "trades", closed_only=True)
    err_btp = abs(op_o_eq / btp_eq - 1)
    print(f"  final equity: oneprice {op_o_eq:.6f} vs backtesting.py {btp_eq:.6f} (rel err {err_btp:.2e})")

    print("\none run (median wall time, same process):")
    print(
        f"  vectorbt        {t_vbt * 1e3:9.2f} ms   oneprice (close fill)     {t_op_c * 1e3:7.3f} ms"
        f"   speedup {t_vbt / t_op_c:7.1f}x (target >= 10x)"
    )
    print(
        f"  (vectorbt's simulator alone, signals precomputed: {t_vbt_sim * 1e3:.2f} ms = "
        f"{t_vbt_sim / t_op_c:.1f}x oneprice's whole run; most of vectorbt's time is ma_crossed_above/below)"
    )
    print(
        f"  backtesting.py  {t_btp * 1e3:9.2f} ms   oneprice (next-open fill) {t_op_o * 1e3:7.3f} ms"
        f"   speedup {t_btp / t_op_o:7.1f}x (target >= 20x)"
    )

    space = {"fast": list(range(5, 55)), "slow": list(range(60, 260, 10))}
    workers = os.cpu_count() or 1
    t = time.perf_counter()
    table = sweep(bars, "sma", space, CostModel(fee=FEE), CASH, fill="close", workers=workers)
    sweep_s = time.perf_counter() - t
    best = table.sort_values("sharpe", ascending=False).iloc[0]
    print(
        f"\nsweep: {len(table)} combinations on {workers} local processes in {sweep_s:.2f} s "
        f"(best by Sharpe: fast={int(best['fast'])} slow={int(best['slow'])} sharpe={best['sharpe']:.3f})"
    )

    print(
        json.dumps(
            {
                "trades_match_vectorbt": m_vbt,
                "trades_match_backtesting_py": m_btp,
                "equity_rel_err": max(err_vbt, err_btp),
                "speedup_vs_vectorbt": round(t_vbt / t_op_c, 1),
                "speedup_vs_backtesting_py": round(t_btp / t_op_o, 1),
                "speedup_vs_vectorbt_simulator_only": round(t_vbt_sim / t_op_c, 1),
                "sweep_1000_s": round(sweep_s, 3),
                "sweep_combinations": len(table),
                "vectorbt_run_s": round(t_vbt, 5),
                "vectorbt_simulator_only_s": round(t_vbt_sim, 5),
                "backtesting_py_run_s": round(t_btp, 5),
                "oneprice_run_close_s": round(t_op_c, 6),
                "oneprice_run_next_open_s": round(t_op_o, 6),
                "trades": len(op_c),
                "bars": len(bars),
            }
        )
    )


if __name__ == "__main__":
    main()
