"""PreBit-style extreme-move model (Zou & Herremans, arXiv 2206.00648) on daily data.

``dataset`` builds one row per UTC day: TA-Lib indicators of BTC, correlated assets carried over
weekends, the day's tweet sentiment aggregates and its text, and the two PreBit labels (next-day high
>= +5%, next-day low <= -5%) plus a volatility-scaled variant. ``model`` fits the indicators-only,
text-only and fused classifiers and runs them walk-forward; ``trading`` turns the fused probability
into a trading rule and backtests it with fees.
"""

from oneprice.models.prebit.dataset import build_dataset, read_daily, read_tweets
from oneprice.models.prebit.model import FEATURE_SETS, TASKS, PrebitModel, walk_forward

__all__ = [
    "FEATURE_SETS",
    "TASKS",
    "PrebitModel",
    "build_dataset",
    "read_daily",
    "read_tweets",
    "walk_forward",
]
