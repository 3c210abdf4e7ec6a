"""Backtesting: strategies over bars and prediction-market histories, fees and slippage, metrics, reports.

Two engines share one :class:`~oneprice.backtest.costs.CostModel` and one
:class:`~oneprice.backtest.result.BacktestResult`: ``vector`` (numba, position targets) and ``event``
(orders, stops, limits, book fills, prediction-market settlement at 0 or 1).
One way to add a strategy: register a targets function in ``strategies.py`` (see its docstring).
"""

from oneprice.backtest.costs import CostModel
from oneprice.backtest.data import Bars, load_bars, read_bars_file
from oneprice.backtest.result import BacktestResult
from oneprice.backtest.run import backtest
from oneprice.backtest.strategies import STRATEGIES, get_strategy

__all__ = [
    "STRATEGIES",
    "BacktestResult",
    "Bars",
    "CostModel",
    "backtest",
    "get_strategy",
    "load_bars",
    "read_bars_file",
]
