"""SmartSpec controller decisions, tree templates and tree masks (no model needed)."""

from __future__ import annotations

import torch

from oneprice.models.llm import kv
from oneprice.models.llm.controller import K_CHOICES, Controller, CostModel, RequestSpec
from oneprice.models.llm.proposers import tree_template


def _flat() -> CostModel:  # bf16-like: verifying 8 tokens costs 1.35x one
    return CostModel({n: 0.1 * (1 + 0.05 * (n - 1)) for n in (1, *(k + 1 for k in K_CHOICES))})


def _linear() -> CostModel:  # fp32-like: two tokens cost twice one
    return CostModel({n: 0.1 * n for n in (1, *(k + 1 for k in K_CHOICES))})


def test_speculates_when_verification_is_cheap_and_drafts_are_accepted() -> None:
    k, g = Controller(_flat()).best_k(0.8, lambda k: 0.0)
    assert k >= 4 and g > 1 / 0.1


def test_falls_back_to_plain_when_it_does_not_pay() -> None:
    assert Controller(_linear()).best_k(0.5, lambda k: 0.0)[0] == 0
    assert Controller(_flat()).best_k(0.02, lambda k: 0.0)[0] == 0
    # an expensive proposer (draft model) does not pay either
    assert Controller(_flat()).best_k(0.6, lambda k: 0.2 * k)[0] == 0


def test_acceptance_tracking_and_probing() -> None:
    ctl = Controller(_flat())
    st = RequestSpec()
    for _ in range(10):
        ctl.update(st, depth=4, accepted=0)
    assert st.alpha < 0.1
    ks = [ctl.choose(st, lambda k: 0.0) for _ in range(40)]
    assert 0 < sum(1 for k in ks if k) < 10  # mostly plain, with sparse probes (back-off)
    for _ in range(10):
        ctl.update(st, depth=8, accepted=8)
    assert st.alpha > 0.8 and ctl.choose(st, lambda k: 0.0) >= 4


def test_no_probing_where_verification_cost_is_linear() -> None:
    ctl = Controller(_linear())
    st = RequestSpec()
    assert all(ctl.choose(st, lambda k: 0.0) == 0 for _ in range(100))


def test_cost_model_interpolates_and_learns() -> None:
    cm = CostModel({1: 1.0, 5: 2.0})
    assert cm.T(3) == 1.5 and cm.T(9) == 3.0
    cm.observe(1, 2.0, weight=0.5)
    assert cm.T(1) == 1.5


def test_tree_template_parents_first() -> None:
    tpl = tree_template(40)
    assert len(tpl) == 40
    assert all(p < i for i, (p, _) in enumerate(tpl))
    assert tpl[0] == (-1, 0)


def test_tree_mask_ancestors_and_window() -> None:
    parents = [-1, 0, 0, 1]  # pending token, two children, one grandchild under child 1
    m = kv.tree_mask(parents, past=3, dtype=torch.float32, device=torch.device("cpu"))[0, 0] == 0
    assert m[:, :3].all()
    assert m[3, 3 + 0] and m[3, 3 + 1] and not m[3, 3 + 2] and m[3, 3 + 3]
    assert not m[2, 3 + 1]
    w = kv.tree_mask(parents, past=3, dtype=torch.float32, device=torch.device("cpu"), window=3)[0, 0] == 0
    # node 3 sits at position 3 + 2 = 5: with a window of 3 it sees positions 3..5 only
    assert not w[3, 0] and not w[3, 2] and w[3, 3] and w[3, 4] and w[3, 6]


def test_realised_cost_switches_a_proposer_off_and_probes_it_later() -> None:
    """The prediction says speculate; the measured seconds per token say it does not pay."""
    from oneprice.models.llm.controller import RunState

    ctl = Controller(_flat(), budget=1.0)  # a loose loss budget: this test is about the realised cost
    run = RunState(remaining=1000)
    costs = {"draft": lambda k: 0.0}
    assert ctl.plan(run, costs) == (None, 0)  # plain first: measure plain in this request
    ctl.record(run, None, 1, 0.1)
    name, k = ctl.plan(run, costs)
    assert name == "draft" and k > 0
    for _ in range(3):  # each speculative step turns out slower per token than plain
        ctl.record(run, "draft", 2, 0.4)
    plans = [ctl.plan(run, costs) for _ in range(60)]
    spec = [p for p in plans if p[0] is not None]
    assert 0 < len(spec) < 8  # mostly plain, with sparse, backed-off probes
    for _ in range(6):  # the probes find it paying again: speculation resumes
        ctl.record(run, "draft", 4, 0.1)
    assert ctl.plan(run, costs)[0] == "draft"


def test_auto_takes_the_cheapest_proposer_per_token() -> None:
    from oneprice.models.llm.controller import RunState

    ctl = Controller(_flat(), plain_every=1000)
    run = RunState(remaining=1000)
    costs = {"prompt_lookup": lambda k: 0.0, "token_recycling": lambda k: 0.0}
    ctl.record(run, None, 1, 0.1)
    tried = {ctl.plan(run, costs)[0] for _ in range(1)}
    ctl.record(run, "prompt_lookup", 5, 0.1)  # 0.02 s per token
    assert ctl.plan(run, costs)[0] == "token_recycling"  # untried: tried once
    ctl.record(run, "token_recycling", 2, 0.1)  # 0.05 s per token
    assert all(ctl.plan(run, costs)[0] == "prompt_lookup" for _ in range(5)) and tried


def test_plain_is_remeasured_while_speculating() -> None:
    from oneprice.models.llm.controller import RunState

    ctl = Controller(_flat(), plain_every=8)
    run = RunState(remaining=1000)
    ctl.record(run, None, 1, 0.1)
    plans = [ctl.plan(run, {"prompt_lookup": lambda k: 0.0}) for _ in range(32)]
    assert sum(1 for p in plans if p[0] is None) == 4


def _simulate(ctl: Controller, accept: int, n: int, t: CostModel) -> float:
    """Seconds a request of n tokens takes when every k-draft gets min(accept, k) tokens accepted."""
    from oneprice.models.llm.controller import RunState

    run = RunState(remaining=n)
    costs = {"prompt_lookup": lambda k: 0.0}
    emitted, seconds = 0, 0.0
    while emitted < n:
        run.remaining = n - emitted
        name, k = ctl.plan(run, costs)
        if name is None:
            dt, got = t.T(1), 1
        else:
            got = min(accept, k) + 1
            ctl.update(run.spec.setdefault(name, RequestSpec()), k, got - 1)
            dt = t.T(k + 1)
        ctl.record(run, name, got, dt)
        emitted, seconds = emitted + got, seconds + dt
    return seconds


def test_loss_budget_bounds_what_failing_speculation_costs() -> None:
    """Drafts that are never accepted cost at most the budget over plain, however long the request."""
    for cost in (_flat(), _linear()):
        for n in (16, 32, 64, 256):
            ctl = Controller(cost, budget=0.04)
            assert _simulate(ctl, 0, n, cost) <= n * cost.T(1) * 1.04 + 1e-9


def test_loss_budget_leaves_room_for_speculation_that_pays() -> None:
    cost = _flat()
    n = 64
    assert _simulate(Controller(cost), 8, n, cost) < n * cost.T(1) / 3
