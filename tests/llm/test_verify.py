"""Rejection sampling keeps the target distribution p (chi-square), on toy and real distributions."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch
from scipy.stats import chisquare

from oneprice.models.llm.sampling import SamplingParams, probs
from oneprice.models.llm.verify import Draft, greedy_verify, rejection_verify

N = 4000


def _chi2_pvalue(counts: Counter[int], p: np.ndarray, n: int = N) -> float:
    p = p.astype(np.float64) / p.astype(np.float64).sum()
    keep = p * n >= 5  # chi-square needs expected counts >= 5: pool the rest
    obs = [counts.get(i, 0) for i in np.nonzero(keep)[0]]
    exp = list(p[keep] * n)
    rest_obs = n - sum(obs)
    rest_exp = n - sum(exp)
    if rest_exp > 1e-6:
        obs.append(rest_obs)
        exp.append(rest_exp)
    elif rest_obs:
        return 0.0  # tokens outside p's support were emitted
    return float(chisquare(obs, exp).pvalue)


def _toy(seed: int, v: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(v, generator=g) * 1.5, torch.randn(v, generator=g) * 1.5


@pytest.mark.parametrize("seed", [1])
def test_rejection_with_draft_q_preserves_p(seed: int) -> None:
    p_logits, q_logits = _toy(seed)
    params = SamplingParams(temperature=1.0)
    p, q = probs(p_logits, 1.0), probs(q_logits, 1.0)
    gen = torch.Generator().manual_seed(seed + 100)
    first, second = Counter(), Counter()
    naive = Counter()
    for _ in range(N):
        xs = torch.multinomial(q, 2, replacement=True, generator=gen).tolist()
        draft = Draft(xs, [-1, 0], torch.stack([q, q]))
        v = rejection_verify(draft, torch.stack([p_logits] * 3), params, gen)
        out = [draft.tokens[a] for a in v.accepted] + [v.next_token]
        first[out[0]] += 1
        if len(out) > 1:
            second[out[1]] += 1
        naive[xs[0]] += 1  # accepting every draft token would emit q
    assert _chi2_pvalue(first, p.numpy()) > 1e-3
    n2 = sum(second.values())
    exp2 = p.double().numpy() / p.double().sum().item() * n2
    assert float(chisquare([second.get(i, 0) for i in range(len(p))], exp2).pvalue) > 1e-3
    assert _chi2_pvalue(naive, p.numpy()) < 1e-6  # the test has the power to catch a wrong verifier


def test_draft_free_tree_sample_and_compare_preserves_p() -> None:
    p_logits, _ = _toy(7)
    params = SamplingParams(temperature=0.8, top_p=0.9)
    p = probs(p_logits, 0.8, 0.9)
    top = torch.argsort(p, descending=True).tolist()
    draft = Draft([top[0], top[1], top[2]], [-1, -1, 0])  # two children of the root, one grandchild
    gen = torch.Generator().manual_seed(3)
    first = Counter()
    for _ in range(N):
        v = rejection_verify(draft, torch.stack([p_logits] * 4), params, gen)
        out = [draft.tokens[a] for a in v.accepted] + [v.next_token]
        first[out[0]] += 1
    assert _chi2_pvalue(first, p.numpy()) > 1e-3
    assert all(first.get(i, 0) == 0 for i in torch.nonzero(p == 0).flatten().tolist())  # top-p respected


def test_greedy_verify_walks_the_tree() -> None:
    logits = torch.full((4, 10), -5.0)
    logits[0, 3] = 5  # after the pending token: 3
    logits[2, 7] = 5  # after node 1 (token 3): 7
    logits[3, 1] = 5  # after node 2 (token 7): 1, not drafted -> bonus
    draft = Draft([2, 3, 7], [-1, -1, 1])
    v = greedy_verify(draft, logits, SamplingParams(), None)
    assert v.accepted == [1, 2] and v.next_token == 1


@pytest.mark.slow
def test_rejection_preserves_real_next_token_distribution(smollm2) -> None:  # type: ignore[no-untyped-def]
    """p: SmolLM2 fp32's next-token distribution; q: the bf16 copy at a hotter temperature."""
    from oneprice.models.llm import kv

    ids = torch.tensor([smollm2.encode("The price of Bitcoin today is")])
    with torch.inference_mode():
        p_logits = kv.forward(smollm2.model, ids, kv.new_cache())[0, -1].clone()
        q_logits = kv.forward(smollm2.draft.model, ids, kv.new_cache())[0, -1].float().clone()
    top = torch.topk(p_logits, 256).indices  # p's head: keeps the verifier loop quick, the distribution real
    p_logits, q_logits = p_logits[top], q_logits[top]
    params = SamplingParams(temperature=1.0, top_p=0.95)
    p = probs(p_logits, 1.0, 0.95)
    q = probs(q_logits, 1.3, 0.95)
    gen = torch.Generator().manual_seed(11)
    n = 4000
    xs = torch.multinomial(q, n, replacement=True, generator=gen).tolist()
    first = Counter()
    p_rows = p_logits[None]
    for x in xs:
        v = rejection_verify(Draft([x], [-1], q[None]), torch.cat([p_rows, p_rows]), params, gen)
        first[([x] if v.accepted else [v.next_token])[0]] += 1
    assert _chi2_pvalue(first, p.numpy(), n) > 1e-3
