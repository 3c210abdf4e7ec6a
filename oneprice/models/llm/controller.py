"""SmartSpec-style controller: pick each request's speculation length k from measured goodput.

Goodput(k) = E[tokens per step | k] / (T(k + 1) + proposer cost(k)), with T(n) the target's forward
time over n tokens (calibrated on the host at start-up, refined online) and E from the request's
acceptance rate alpha: E = 1 + alpha + ... + alpha^k. k = 0 is the plain path (goodput 1 / T(1));
when no k beats it the request decodes plainly, probing now and then (exponential back-off) so a
request that turns copy-heavy later can still switch speculation back on (never where even
near-certain acceptance would not pay, e.g. when T(n) grows linearly in n).
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass

K_CHOICES = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32)


class CostModel:
    """T(n): seconds of one target forward over n new tokens."""

    def __init__(self, table: dict[int, float]) -> None:
        self.table = dict(sorted(table.items()))

    @classmethod
    def calibrate(
        cls, forward: Callable[[int], None], sizes: tuple[int, ...] = (), reps: int = 3
    ) -> CostModel:
        sizes = sizes or (1, *(k + 1 for k in K_CHOICES))  # exactly the n the controller may pick:
        forward(1)  # warm-up                               # BLAS speed is far from linear in n
        table = {n: float("inf") for n in sizes}
        for _ in range(reps):  # round-robin, so a busy spell on the host hits every size alike
            for n in sizes:
                t0 = time.perf_counter()
                forward(n)
                table[n] = min(table[n], time.perf_counter() - t0)  # the least disturbed run
        return cls(table)

    def T(self, n: int) -> float:
        ns = list(self.table)
        if n in self.table:
            return self.table[n]
        i = bisect_left(ns, n)
        if i == 0:
            return self.table[ns[0]]
        if i == len(ns):
            a, b = ns[-2], ns[-1]
        else:
            a, b = ns[i - 1], ns[i]
        ta, tb = self.table[a], self.table[b]
        return max(ta + (tb - ta) * (n - a) / (b - a), 1e-9)

    def observe(self, n: int, seconds: float, weight: float = 0.1) -> None:
        """Refine T(n) online from a measured step."""
        if n in self.table:
            self.table[n] = (1 - weight) * self.table[n] + weight * seconds


@dataclass
class RequestSpec:
    """Per-request acceptance tracking (geometric model, exponentially decayed)."""

    succ: float = 1.0
    trials: float = 2.0
    plain_run: int = 0
    probe_every: int = 4
    decay: float = 0.9

    @property
    def alpha(self) -> float:
        return min(self.succ / self.trials, 0.99) if self.trials > 0 else 0.0

    def update(self, depth: int, accepted: int) -> None:
        self.succ = self.decay * self.succ + accepted
        self.trials = self.decay * self.trials + accepted + (1 if accepted < depth else 0)


class Controller:
    def __init__(self, cost: CostModel, k_max: int = 16, min_gain: float = 1.03) -> None:
        self.cost = cost
        self.k_max = k_max
        self.min_gain = min_gain

    def expected(self, alpha: float, k: int) -> float:
        return sum(alpha**i for i in range(k + 1))

    def best_k(self, alpha: float, proposer_cost: Callable[[int], float]) -> tuple[int, float]:
        plain = 1.0 / self.cost.T(1)
        best, best_g = 0, plain
        for k in K_CHOICES:
            if k > self.k_max:
                break
            g = self.expected(alpha, k) / (self.cost.T(k + 1) + proposer_cost(k))
            if g > best_g:
                best, best_g = k, g
        if best and best_g < plain * self.min_gain:
            return 0, plain
        return best, best_g

    def choose(self, st: RequestSpec, proposer_cost: Callable[[int], float]) -> int:
        k, _ = self.best_k(st.alpha, proposer_cost)
        if k:
            st.plain_run = 0
            return k
        probe, _ = self.best_k(0.9, proposer_cost)
        if not probe:  # even near-certain acceptance would not pay on this host: never probe
            return 0
        st.plain_run += 1
        if st.plain_run >= st.probe_every:  # probe: is speculation paying again?
            st.plain_run = 0
            st.probe_every = min(st.probe_every * 2, 64)
            return min(probe, 4)
        return 0

    def update(self, st: RequestSpec, depth: int, accepted: int) -> None:
        st.update(depth, accepted)
        if accepted:
            st.probe_every = 4


class FixedController(Controller):
    """Always speculate k tokens (tests, ablations): no calibration, no fallback."""

    def __init__(self, k: int) -> None:
        super().__init__(CostModel({1: 1.0}), k_max=k)
        self.k = k

    def choose(self, st: RequestSpec, proposer_cost: Callable[[int], float]) -> int:
        return self.k
