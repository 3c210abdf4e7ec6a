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
