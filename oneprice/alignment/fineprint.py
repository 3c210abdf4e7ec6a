"""Fine-print facets: what two look-alike questions differ on once their rules are read.

Each is a feature the model weighs (``features.SOFT_FACETS``), not a veto of its own: a measure,
honour, award category or nomination only one market names, a superlative role, a month's window
against a year's, a round short of the whole contest against a plain "win", a threshold only one
market sets or only one gives a direction, a second way to Yes in the rules (an announcement that
counts), "first N days" windows of different lengths, different events ("banned from" against "win"),
a pair of people in the rules against one. ``disjoint`` (adjacent buckets that share only an edge)
feeds a hard facet.
"""

from __future__ import annotations

import math
import re

from oneprice.alignment import lexicon as lx
from oneprice.alignment.contract import Contract, canon, fold


def fine_print(a: Contract, b: Contract, qa: str, qb: str) -> dict[str, float]:
    """The fine-print features of (A, B), symmetric; ``qa`` and ``qb`` are the canonical questions."""
    na, nb = frozenset(a.numbers), frozenset(b.numbers)
    wa, wb = _first_window(qa), _first_window(qb)
    ea, eb = _events(qa), _events(qb)
    return {
        "dir_one_sided": float(bool(na & nb) and _bound(a) != _bound(b)),
        "threshold_one_sided": float(_threshold(a) != _threshold(b) and not (na and nb)),
        "superlative_conflict": float(_superlatives(qa) != _superlatives(qb)),
        "month_one_sided": float(_month_one_sided(a, b)),
        # "in his first year" is not "in his first 6 months"
        "first_window_conflict": float(None not in (wa, wb) and wa != wb),
        # "Scholz leaves office" is not "Scholz is the next Chancellor"
        "exit_one_sided": float(bool(_EXIT.search(qa)) != bool(_EXIT.search(qb))),
        "qualifier_one_sided": float(_qualifiers(qa) != _qualifiers(qb)),
        # "get 2nd" against "win a majority": a lower place only one market asks for
        "place_one_sided": float((a.rank >= 2) != (b.rank >= 2) and not (a.rank and b.rank)),
        # "the tax cut extended" keeps a rate; "cut taxes" changes it
        "extend_one_sided": float(bool(_EXTEND.search(qa)) != bool(_EXTEND.search(qb))),
        "extra_path": float(_extra_path(a, b) or _extra_path(b, a)),
        "event_conflict": float(bool(ea) and bool(eb) and not ea & eb),
        "joint_one_sided": float(a.rules_joint != b.rules_joint),
        "announce_one_sided": float(_announcement_counts(a, b) or _announcement_counts(b, a)),
        "honour_missing": _one_sided(a, b, lx.COMPETITIONS, lx.HONOURS),
        "core_conflict": _one_sided(a, b, lx.QUANTITIES, frozenset({"core"})),
        # "be the nominee" and "win the primary" are one race
        "nomination_missing": _one_sided(a, b, lx.QUANTITIES, frozenset({"nomination"}))
        * float(not (a.stage & b.stage)),
        "award_missing": float(_award_missing(a, b) or _award_missing(b, a)),
        # a round short of the whole thing ("the 1st round", "the primary") against a plain "win X"
        "stage_one_sided": float(
            bool(a.stage - {"final"}) != bool(b.stage - {"final"}) and not (a.stage & b.stage)
        ),
    }


def _text(c: Contract) -> str:
    """What a market says, question and rules, as facets are searched for in it."""
    return f" {canon(c.question)} {fold(c.rules[:3000])} "


def _bound(c: Contract) -> bool:
    """The question bounds its number ("8+", "above 100", "10-15%"); a bare or "exactly" number does not."""
    return c.direction in ("above", "below", "range")


def _threshold(c: Contract) -> bool:
    """The question sets a threshold or bucket on a number ("more than 1000 cases", "10-15%")."""
    return bool(c.numbers) and _bound(c)


def disjoint(a: tuple[float, float] | None, b: tuple[float, float] | None) -> bool:
    """No value satisfies both. Adjacent buckets that share only an edge ("20-25%" and "25-30%",
    "10% or below" and "10-15%") are disjoint too: venues split buckets at the edge. ("Above 100" and
    "below 100" are not: they are one threshold's two sides, an inverse pair.)"""
    if a is None or b is None:
        return False
    tol = 1e-9 + 1e-6 * max(1.0, *(abs(x) for x in (*a, *b) if math.isfinite(x)))
    overlap = min(a[1], b[1]) - max(a[0], b[0])
    bounded = all(map(math.isfinite, a)) or all(map(math.isfinite, b))
    return overlap < -tol or (abs(overlap) <= tol and bounded and a[1] - a[0] > tol and b[1] - b[0] > tol)


def _unmentioned(names: frozenset[str], table: dict[str, tuple[str, ...]], other: Contract) -> bool:
    """One of ``names`` (a competition, a "core" measure) appears nowhere in the other market's question
    or rules: "be Time Person of the Year" against "win the election", "core inflation" against CPI."""
    text = _text(other)
    return any(not any(w.strip() in text for w in table[k]) for k in names)


def _one_sided(a: Contract, b: Contract, table: dict[str, tuple[str, ...]], keys: frozenset[str]) -> float:
    """A facet value of ``keys`` named by one market and never mentioned by the other."""
    ka, kb = (a.quantity | a.competition) & keys, (b.quantity | b.competition) & keys
    return float(_unmentioned(ka - kb, table, b) or _unmentioned(kb - ka, table, a))


def _award_missing(a: Contract, b: Contract) -> bool:
    """A asks for one award category ("Best Picture") that B neither names nor mentions."""
    return bool(a.award) and not b.award and a.award not in _text(b)


def initials_match(x: str, y: str) -> bool:
    """One name abbreviates the other: "rfk jr" and "robert f kennedy jr"."""

    def abbreviates(short: str, long: str) -> bool:
        initials = "".join(w[0] for w in long.split())
        return any(len(w) >= 2 and w in initials for w in short.split() if len(w) < len(long.split()) + 1)

    return abbreviates(x, y) or abbreviates(y, x)


_SUPERLATIVE = re.compile(
    r"\b(\w+est|last|1st|tipping[- ]point) "
    r"(state|district|county|country|team|party|candidate|leader|person|company|city)\b"
)


def _superlatives(q: str) -> frozenset[str]:
    """Superlative roles ("the closest state", "the last state called"): a market on one role is not a
    market on another, nor on a plain outcome ("Alaska moves right")."""
    return frozenset(m.group(1) for m in _SUPERLATIVE.finditer(q))


_COUNT_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "six": 6, "nine": 9, "ten": 10, "twelve": 12}
_UNIT_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}
_FIRST = re.compile(
    r"\b(?:first|1st) (\d+ |one |two |three |four |six |nine |ten |twelve )?(day|week|month|year)s?\b"
)


def _first_window(q: str) -> int | None:
    """The length in days of a "first N days/months/year" window ("the first 100 days": 100)."""
    m = _FIRST.search(q)
    if m is None:
        return None
    n = (m.group(1) or "1").strip()
    return (int(n) if n.isdigit() else _COUNT_WORDS[n]) * _UNIT_DAYS[m.group(2)]


_EVENT_RX = {k: re.compile(rf"\b(?:{v})\b") for k, v in lx.EVENTS.items()}


def _events(q: str) -> frozenset[str]:
    """The events a question asks about ("win", "ban", "resign"...)."""
    return frozenset(k for k, rx in _EVENT_RX.items() if rx.search(q))


_EXIT = re.compile(
    r"\b(leaves?|leaving|out as|out of office|resigns?|steps? down|fired|removed|ousted|departs?|no longer"
    r"|exits?|quits?|impeached)\b"
)
_QUALIFIER = re.compile(rf"\b({'|'.join(lx.QUALIFIERS)})\b")


def _qualifiers(q: str) -> frozenset[str]:
    """Narrowing words in a question ("emergency", "acting")."""
    return frozenset(_QUALIFIER.findall(q))


_EXTEND = re.compile(r"\b(extend|extends|extended|extension|renew|renews|renewed|renewal)\b")
_OR_PATH = re.compile(r",? or (?:if )?(?:he|she|they|it) (\w{4,})")


def _extra_path(a: Contract, b: Contract) -> bool:
    """A's rules add a second way to resolve Yes ("a vote of no confidence ..., or he resigns") that B
    never mentions: A is the wider contract."""
    text = _text(b)
    return any(w[:5] not in text for w in _OR_PATH.findall(fold(a.rules[:600])))


_ANNOUNCED = re.compile(
    r"\bannounce\w*(?: of| by| that)?(?: \S+){0,10}? (?:will|would) (?:immediately |also )?"
    r"(?:resolve|count|qualify)(?: this market)?(?: to| for)?(?: an?)? \"?yes"
)


def _announcement_counts(a: Contract, b: Contract) -> bool:
    """A's rules let an announcement resolve Yes ("An announcement of Sundar Pichai's resignation ...
    will immediately resolve this market to Yes") and B never mentions one: A is the wider contract."""
    return bool(_ANNOUNCED.search(fold(a.rules[:3000]))) and "announc" not in _text(b)


def _month_one_sided(a: Contract, b: Contract) -> bool:
    """One question names a month ("CPI in February 2025", "before April 2025"), the other only a year or
    nothing: a month's window against a year's."""
    return bool(a.months) != bool(b.months) and bool(a.years or b.years) and not (a.days or b.days)
