"""Metamorphic tests: a change that keeps a contract's meaning keeps its facets and hard conflicts.

Each runs over a deterministic quarter of the shipped labeled pairs (both questions and rules):
trailing punctuation, letter case, the order of A and B, an irrelevant clause added to the rules,
and a synonym swapped in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from functools import cache

import pytest

from oneprice.alignment import lexicon as lx
from oneprice.alignment.contract import Contract, canon, parse
from oneprice.alignment.features import hard_facets, polarity_flip
from oneprice.alignment.labels import LabeledPair, read_pairs
from oneprice.core.types import Market


@cache
def _pairs() -> list[LabeledPair]:
    """Every fourth shipped pair (a deterministic quarter keeps the module to seconds)."""
    pairs, _ = read_pairs(None)
    return pairs[::4]


def _contract(m: Market) -> Contract:
    return parse(m.question, m.rules, m.close_time, m.venue, m.market_id)


# Facets read from canonical (lower-cased) text: a change of letter case must keep every one.
CASELESS = (
    "quantity", "unit", "numbers", "direction", "lo", "hi", "years", "months", "days", "deadline", "window",
    "stage", "office", "party", "category", "negated", "competition", "award", "rank", "disjunct", "places",
)  # fmt: skip


def _caseless(c: Contract) -> tuple[object, ...]:
    return tuple(getattr(c, f) for f in CASELESS)


def _question_changed(change: Callable[[str], str]) -> list[str]:
    """Pairs whose hard conflicts move when ``change`` rewrites A's question (listed for the message)."""
    bad = []
    for p in _pairs():
        q2 = change(p.a.question)
        if q2 == p.a.question:
            continue
        before = hard_facets(_contract(p.a), _contract(p.b))
        after = hard_facets(_contract(replace(p.a, question=q2)), _contract(p.b))
        if before != after:
            bad.append(f"{p.a.question!r} -> {q2!r}: {before} -> {after}")
    return bad


def test_trailing_punctuation_keeps_hard_conflicts() -> None:
    assert _question_changed(lambda q: q.rstrip(" ?.!")) == []
    assert _question_changed(lambda q: q.rstrip(" ?.!") + " ?") == []


def test_letter_case_keeps_caseless_facets() -> None:
    for p in _pairs():
        for m in (p.a, p.b):
            c = _contract(m)
            for q in (m.question.upper(), m.question.lower()):
                assert _caseless(parse(q, m.rules, m.close_time, m.venue, m.market_id)) == _caseless(c), q


def test_leading_word_case_keeps_hard_conflicts() -> None:
    lead = re.compile(r"^(Will|Is|Are|Does|Do|Who|What|Which|How|When)\b")
    assert _question_changed(lambda q: lead.sub(lambda m: m.group(0).lower(), q)) == []


def test_order_of_a_and_b_keeps_hard_conflicts() -> None:
    for p in _pairs():
        a, b = _contract(p.a), _contract(p.b)
        assert hard_facets(a, b) == hard_facets(b, a), (p.a.question, p.b.question)


IRRELEVANT = " Trading on this market may be paused during maintenance windows."


def test_irrelevant_rules_clause_keeps_hard_conflicts() -> None:
    bad = []
    for p in _pairs():
        before = hard_facets(_contract(p.a), _contract(p.b))
        after = hard_facets(_contract(replace(p.a, rules=p.a.rules + IRRELEVANT)), _contract(p.b))
        if before != after:
            bad.append((p.a.question, before, after))
    assert bad == []


# (pattern, replacement): one meaning, two spellings
SWAPS = (
    (r"\bU\.S\.", "United States"),
    (r"\bUnited States\b", "US"),
    (r"\bJanuary\b", "Jan"),
    (r"\bDecember\b", "Dec"),
    (r"\bDonald Trump\b", "Trump"),
    (r"\bfirst round\b", "1st round"),
    (r"\bMarch Madness\b", "NCAA Tournament"),
)


@pytest.mark.parametrize(("pattern", "repl"), SWAPS)
def test_synonym_keeps_hard_conflicts(pattern: str, repl: str) -> None:
    assert _question_changed(lambda q: re.sub(pattern, repl, q)) == []


def test_every_lexicon_word_is_reachable_in_canonical_text() -> None:
    """The facet tables are searched in canonical text: each word must survive ``canon`` (before the
    fix, "rate hike" and "Labour" never matched: the synonym table had rewritten them)."""
    from oneprice.alignment.contract import _canon_word, _hits

    tables = (lx.QUANTITIES, lx.STAGES, lx.OFFICES, lx.PARTIES, lx.CATEGORIES, lx.COMPETITIONS, lx.PLACES)
    for table in tables:
        for key, words in table.items():
            for w in words:
                assert key in _hits(canon(w.strip()), table), (key, w, _canon_word(w))


@pytest.mark.parametrize(
    ("question", "facet", "expected"),
    [
        ("Will Republicans win Texas?", "places", frozenset({"texas"})),  # a place before "?"
        ("Will the Senate vote by 5 PM ET?", "office", frozenset({"senate"})),  # 5 PM is a time
        ("Will West Virginia win the NCAA Tournament?", "stage", frozenset()),  # not a conference stage
        ("Will West Virginia win the NCAA Tournament?", "places", frozenset({"west virginia"})),
        ("Will Labour win the most seats?", "party", frozenset({"labour"})),
        ("Will the Fed announce a rate hike in March?", "quantity", frozenset({"rates"})),
        ("Will the Nuggets win the West?", "stage", frozenset({"conference"})),
    ],
)
def test_named_bugs_fixed(question: str, facet: str, expected: frozenset[str]) -> None:
    assert getattr(parse(question), facet) == expected


@pytest.mark.parametrize("lo", [5, 10, 15, 20, 40, 60])
def test_bucket_end_gap_is_seen_at_any_magnitude(lo: int) -> None:
    """'lo% to (lo+4.9)%' against 'lo% up to but not including (lo+5)%' conflicts wherever the bucket
    sits (before the fix, only buckets under about 15% did: the end tolerance grew with the numbers),
    in either order and with or without the question mark; one bucket written twice never conflicts."""
    hi = lo + 5
    kalshi = (
        f"If SPD receives {lo}% to {hi - 0.1:.1f}% share of the vote in the 2025 federal German election, "
        "then the market resolves to Yes."
    )
    poly = f"Yes if the SPD wins between {lo}% (inclusive) and {hi}% (exclusive) of all party list votes."
    for end in ("?", ""):
        a = parse("What share of the vote will the SPD get in the German election" + end, kalshi)
        b = parse(f"Will the SPD win {lo}-{hi}% of the vote in the German election" + end, poly)
        assert "range_conflict" in hard_facets(a, b) and "range_conflict" in hard_facets(b, a), (lo, end)
        same = parse(f"Will the SPD win between {lo}% and {hi - 0.1:.1f}% of the vote" + end)
        assert "range_conflict" not in hard_facets(a, same), (lo, end)


@pytest.mark.parametrize(
    ("above", "below", "conflict"),
    [
        ("more than 100 launches", "less than 100 launches", True),  # exactly 100: No on both
        ("at least 100 launches", "at most 100 launches", True),  # exactly 100: Yes on both
        ("more than 100 launches", "at most 100 launches", False),  # complements
        ("at least 100 launches", "less than 100 launches", False),
    ],
)
def test_inverse_pair_needs_complementary_inclusivity(above: str, below: str, conflict: bool) -> None:
    """Two sides of one threshold hedge as inverse only when exactly one includes the threshold, in
    either order of A and B, whatever the letter case of the first word."""
    for lead in ("Will", "will"):
        a = parse(f"{lead} SpaceX have {above} in 2025?")
        b = parse(f"{lead} SpaceX have {below} in 2025?")
        assert polarity_flip(a, b)
        assert ("strict_conflict" in hard_facets(a, b)) is conflict, (above, below)
        assert ("strict_conflict" in hard_facets(b, a)) is conflict, (below, above)
