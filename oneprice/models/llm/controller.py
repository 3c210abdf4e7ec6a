"""SmartSpec-style controller: pick each request's proposer and speculation length k from goodput.

Predicted goodput(k) = E[tokens per step | k] / (T(k + 1) + proposer cost(k)), with T(n) the target's
forward time over n tokens (calibrated on the host at start-up, refined online), the proposer's cost
measured online (a draft model's forwards included) and E from the request's acceptance rate alpha:
E = 1 + alpha + ... + alpha^k. k = 0 is the plain path (goodput 1 / T(1)).

A prediction is only a prediction: a neighbour on the CPU, a cold cache or a draft model slower than
calibrated all break it. So each request also keeps the *realised* wall-clock seconds per emitted
token of its plain steps and of each proposer's speculative steps (taken in the same request, hence
under the same load). A proposer whose realised cost per token is not below plain's is switched off
for that request, and tried again only after an exponentially growing run of plain steps; while
speculating, every ``plain_every``-th step is plain so the plain figure stays current. ``auto`` runs
this over every proposer the engine has and takes the cheapest per token at each step.

Every speculative step also has to fit a loss budget: the request keeps the seconds its speculative
steps lost against plain (realised seconds minus emitted tokens times plain's seconds per token; a
step that paid gives time back), and a step whose worst case (nothing accepted) would push that loss
above ``budget`` (4%) of the request's plain-decoding time (seconds so far less the loss, prefill
included, plus the tokens still allowed at plain's cost) runs at a smaller k or plain. So however
often acceptance fails, a request never spends more than about ``budget`` over plain on speculation;
what speculation wins is added to the budget and may be spent on trying again.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field

K_CHOICES = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32)


class CostModel:
    """T(n): seconds of one target forward over n new tokens."""

    def __init__(self, table: dict[int, float]) -> None:
        self.table = dict(sorted(table.items()))

    @classmethod
    def calibrate(
        cls,
        forward: Callable[[int], None],
        sizes: tuple[int, ...] = (),
        reps: int = 3,
        sync: Callable[[], None] = lambda: None,
    ) -> CostModel:
        """``sync`` waits for queued device work (``torch.cuda.synchronize``) so timings are compute."""
        sizes = sizes or (1, *(k + 1 for k in K_CHOICES))  # exactly the n the controller may pick:
        forward(1)  # warm-up; BLAS speed is far from linear in n
        table = {n: float("inf") for n in sizes}
        for _ in range(reps):  # round-robin, so a busy spell on the host hits every size alike
            for n in sizes:
                sync()
                t0 = time.perf_counter()
                forward(n)
                sync()
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


class Ema:
    """An exponentially weighted mean (None until the first value)."""

    def __init__(self, weight: float = 0.3) -> None:
        self.weight = weight
        self.value: float | None = None
        self.count = 0

    def add(self, x: float) -> None:
        self.value = x if self.value is None else (1 - self.weight) * self.value + self.weight * x
        self.count += 1


@dataclass
class RequestSpec:
    """Per-request acceptance tracking (geometric model, exponentially decayed)."""

    succ: float = 1.0
    trials: float = 2.0
    plain_run: int = 0
    probe_every: int = 4
    decay: float = 0.9
    cost: Ema = field(default_factory=Ema)  # realised seconds per emitted token of speculative steps

    @property
    def alpha(self) -> float:
        return min(self.succ / self.trials, 0.99) if self.trials > 0 else 0.0

    def update(self, depth: int, accepted: int) -> None:
        self.succ = self.decay * self.succ + accepted
        self.trials = self.decay * self.trials + accepted + (1 if accepted < depth else 0)


class Controller:
    def __init__(
        self,
        cost: CostModel,
        k_max: int = 16,
        min_gain: float = 1.03,
        plain_every: int = 24,
        budget: float = 0.04,
    ) -> None:
        self.cost = cost
        self.k_max = k_max
        self.min_gain = min_gain
        self.plain_every = plain_every
        self.budget = budget

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
        """k for one proposer from the prediction alone (``plan`` adds the realised costs)."""
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

    def plan(self, run: RunState, costs: dict[str, Callable[[int], float]]) -> tuple[str | None, int]:
        """(proposer, k) for the next step of a request; (None, 0) is a plain step."""
        run.steps += 1
        plain = run.plain.value
        if plain is None or (run.steps % self.plain_every == 0):
            return None, 0  # measure plain in this request, under this load
        best: tuple[float, str, int] | None = None
        for name, cost in costs.items():
            st = run.spec.setdefault(name, RequestSpec())
            realised = st.cost.value
            if realised is not None and st.cost.count >= 2 and realised * self.min_gain > plain:
                k = 0  # speculation measured and found not to pay: plain, probing with back-off
                st.plain_run += 1
                if st.plain_run >= st.probe_every:
                    st.plain_run = 0
                    st.probe_every = min(st.probe_every * 2, 64)
                    k = min(self.best_k(0.9, cost)[0], 4)
            else:
                k = self.choose(st, cost)
            if not k:
                continue
            guess = realised if realised is not None else 0.0  # untried: try it once
            if best is None or guess < best[0]:
                best = (guess, name, k)
        if best is None:
            return None, 0
        k = self.affordable(run, costs[best[1]], best[2], plain)
        return (best[1], k) if k else (None, 0)

    def affordable(self, run: RunState, cost: Callable[[int], float], k: int, plain: float) -> int:
        """The largest k' <= k whose worst case (no draft token accepted) keeps the loss in budget."""
        plain_time = run.elapsed - run.loss + max(run.remaining, 0) * plain  # the request, all plain
        allowance = self.budget * plain_time - run.loss
        t1 = self.cost.T(1)
        for kk in sorted((c for c in K_CHOICES if c <= k), reverse=True):
            worst = (self.cost.T(kk + 1) + cost(kk)) / t1 * plain - plain  # one token for a k'-step
            if worst <= allowance:
                return kk
        return 0

    def update(self, st: RequestSpec, depth: int, accepted: int) -> None:
        st.update(depth, accepted)
        if accepted:
            st.probe_every = 4

    def record(self, run: RunState, name: str | None, tokens: int, seconds: float) -> None:
        """A step's realised wall-clock cost (proposing, verifying, sampling) per emitted token."""
        run.elapsed += seconds
        if tokens <= 0:
            return
        if name is None:
            run.plain.add(seconds / tokens)
        else:
            run.spec.setdefault(name, RequestSpec()).cost.add(seconds / tokens)
            if run.plain.value is not None:
                run.loss += seconds - tokens * run.plain.value


@dataclass
class RunState:
    """One request's controller state: per-proposer acceptance and realised costs, plain's cost."""

    spec: dict[str, RequestSpec] = field(default_factory=dict)
    plain: Ema = field(default_factory=Ema)
    steps: int = 0
    elapsed: float = 0.0  # seconds of the request so far (prefill included)
    remaining: int = 0  # tokens it may still emit (the engine sets it before each step)
    loss: float = 0.0  # seconds its speculative steps lost against plain (negative: gained)


class FixedController(Controller):
    """Always speculate k tokens (tests, ablations): no calibration, no fallback."""

    def __init__(self, k: int) -> None:
        super().__init__(CostModel({1: 1.0}), k_max=k)
        self.k = k

    def choose(self, st: RequestSpec, proposer_cost: Callable[[int], float]) -> int:
        return self.k

    def plan(self, run: RunState, costs: dict[str, Callable[[int], float]]) -> tuple[str | None, int]:
        return (next(iter(costs)), self.k) if costs else (None, 0)
