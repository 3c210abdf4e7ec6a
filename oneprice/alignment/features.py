"""Facet agreement and similarity features for a market pair (A, B), and the facet report."""

from __future__ import annotations

import math
import re
from typing import Any

from rapidfuzz import fuzz

from oneprice.alignment.contract import Contract, canon, fold, parse
from oneprice.alignment.fineprint import disjoint, fine_print, initials_match
from oneprice.alignment.reader import READER_FEATURES

INF = math.inf


def _interval(c: Contract) -> tuple[float, float] | None:
    if c.direction == "above" and c.lo is not None:
        return c.lo, INF
    if c.direction == "below" and c.hi is not None:
        return -INF, c.hi
    if c.direction in ("range", "exact") and c.lo is not None and c.hi is not None:
        return c.lo, c.hi
    return None


def _within(a: tuple[float, float], b: tuple[float, float]) -> bool:
    tol = 1e-9 + 0.005 * max(1.0, *(abs(x) for x in (*a, *b) if math.isfinite(x)))
    return a[0] >= b[0] - tol and a[1] <= b[1] + tol


def _jacc(a: frozenset[Any], b: frozenset[Any]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def _conflict(a: frozenset[Any], b: frozenset[Any]) -> float:
    return float(bool(a) and bool(b) and not (a & b))


def _ent_tokens(c: Contract) -> frozenset[str]:
    return frozenset(w for e in c.entities for w in e.split() if len(w) > 1)


def _coverage(tokens: frozenset[str], text: str) -> float:
    if not tokens:
        return 1.0
    return sum(1 for t in tokens if t in text) / len(tokens)


def _subject_sim(a: Contract, b: Contract, qa: str, qb: str) -> float:
    """How well the two questions' subjects agree (1 when one names the other's); -1 when unknown."""
    if not a.subject or not b.subject:
        return -1.0
    if a.subject in qb or b.subject in qa:
        return 1.0
    return fuzz.partial_ratio(a.subject, b.subject) / 100


_PARTICLES = frozenset({"jr", "sr", "st", "fc", "cf", "sc", "de", "la", "le", "da", "du", "di", "mr", "dr"})


def _subject_conflict(a: Contract, b: Contract, qa: str, qb: str) -> bool:
    """Each subject has a word the other market never mentions: "Andrea Gonzalez" and "Luisa Gonzalez",
    "Atassut" and "Siumut". ("Kamala" and "Kamala Harris" do not conflict.) A rules subject stands in
    for a question that omits the name ("2025 BAFTA for Best Film?" whose rules say "If Anora has won")."""
    text_a, text_b = f"{qa} {fold(a.rules[:2000])}", f"{qb} {fold(b.rules[:2000])}"

    def unmatched(subject: str, text: str, question: str) -> bool:
        subject, text, question = (t.replace(".", "") for t in (subject, text, question))  # "J.D." is "JD"
        words = question.split()
        return any(
            (len(w) >= 3 or (len(w) == 2 and w not in _PARTICLES))  # "AC Milan" is not "Inter Milan"
            and not re.search(rf"\b{re.escape(w)}", question if len(w) < 5 else text)  # rules say "tie"
            and not any(fuzz.ratio(w, x) >= 85 for x in words)  # "Capitols" and "Capitals"
            for w in subject.split()
        )

    pairs = [
        (a.subject, b.subject),
        (a.rules_subject, b.subject),
        (a.subject, b.rules_subject),
        (a.last_name, b.last_name),
    ]
    return any(
        x and y and unmatched(x, text_b, qb) and unmatched(y, text_a, qa) and not initials_match(x, y)
        for x, y in pairs
    )


_RELIST_DAYS = 7.0


def _relisted(a: Contract, b: Contract) -> bool:
    """One venue lists a proposition once per window: its two markets closing weeks apart are two
    windows (this month's and next month's count), however alike their titles."""
    if not a.venue or a.venue != b.venue or a.close is None or b.close is None:
        return False
    return abs((a.close - b.close).total_seconds()) > _RELIST_DAYS * 86400


_STATE_SCHOOL = re.compile(r"\b([a-z]+) state\b")


def _state_school(qa: str, qb: str) -> bool:
    """A names "Michigan State" where B names plain "Michigan": two different teams."""
    return any(
        re.search(rf"\b{m}\b(?! state)", qb) and not re.search(rf"\b{m} state\b", qb)
        for m in _STATE_SCHOOL.findall(qa)
        if m not in ("the", "a", "united", "secretary", "of", "head", "nation")
    )


def _team_suffix(a: Contract, b: Contract, qa: str, qb: str) -> bool:
    """Two teams, one named inside the other: "Texas A&M" or "Texas Tech" against plain "Texas"."""
    if a.category != "sports" or b.category != "sports" or not a.subject or not b.subject:
        return False
    wa, wb = a.subject.split(), b.subject.split()
    for long, short, other in ((wa, wb, qb), (wb, wa, qa)):
        extra = [w for w in long if w not in short]
        if (
            long[: len(short)] == short
            and extra
            and all(w in _SCHOOL_WORDS and w not in other for w in extra)
        ):
            return True
    return False


# Words that make another school of a place ("Texas A&M", "Georgia Tech"); a nickname does not
# ("Kansas City Chiefs" is "Kansas City").
_SCHOOL_WORDS = frozenset({"a&m", "tech", "st", "southern", "northern", "eastern", "western", "central"})


def _same_cut(a: Contract, b: Contract) -> bool:
    """A and B are on opposite sides of one threshold ("above 50" and "less than 50")."""
    ia, ib = _interval(a), _interval(b)
    if ia and ib and {a.direction, b.direction} == {"above", "below"}:
        cut_a = ia[0] if a.direction == "above" else ia[1]
        cut_b = ib[0] if b.direction == "above" else ib[1]
        return abs(cut_a - cut_b) <= 1e-9 + 1e-6 * abs(cut_a)
    return False


def polarity_flip(a: Contract, b: Contract) -> bool:
    """True when B states the negation of A (a 'not', or the complementary side of one threshold)."""
    return a.negated != b.negated or _same_cut(a, b)


_DEADLINE_DAYS = 7.0  # effective deadlines further apart than this are two windows
_COARSE_DAYS = 31.0  # ... or this, where one is only a year's end ("before 2026" in the rules)


def _eff_gap(a: Contract, b: Contract) -> float:
    return abs(_signed_days(effective_deadline(a), effective_deadline(b)))


def _eff_conflict(a: Contract, b: Contract) -> bool:
    """The two windows end apart. A year's end read from the rules is coarse: venues close such a
    market on the period's last scheduled event (an FOMC meeting), weeks before Dec 31, so only a gap of
    over a month counts there."""
    coarse = any(_coarse(c) for c in (a, b))
    return _eff_gap(a, b) > (_COARSE_DAYS if coarse else _DEADLINE_DAYS)


def _coarse(c: Contract) -> bool:
    """The deadline is a year's end (Dec 31 or Jan 1) read from the rules, a Kalshi ticker or an expected
    expiration: venues close such a market on the period's last scheduled event. Any other date they
    state is exact ("before May 1, 2025" is a month after "by March 31, 2025")."""
    d = effective_deadline(c)
    stated = (c.rules_deadline, c.rules_year_end, c.ticker_date, c.expected)
    return d is not None and d in stated and (d.month, d.day) in ((12, 31), (1, 1))


def _signed_days(a: Any, b: Any, cap: float = 1500.0) -> float:
    if a is None or b is None:
        return 0.0
    d = (a - b).total_seconds() / 86400.0 if hasattr(a - b, "total_seconds") else float(a - b)
    return max(-cap, min(cap, d))


def effective_deadline(c: Contract) -> Any:
    """The question's "by/before" deadline, else a non-Kalshi close date (Kalshi closes are a far 'latest
    expiration'), else the latest date the rules name, else the year's end the rules say "before", else
    the date in a Kalshi ticker."""
    if c.deadline is not None and c.window == "by":  # "in 2025" names a period, not a deadline
        return c.deadline
    if c.close is not None and not c.venue.startswith("kalshi") and c.venue:
        return c.close.date()
    return c.rules_deadline or c.rules_year_end or c.ticker_date or c.expected


def _strict_conflict(a: Contract, b: Contract) -> bool:
    """One threshold, but the two markets treat its value apart: on one side of it, one excludes the
    value ("above 5") and the other includes it ("5 or more"); on opposite sides (a pair that would
    hedge as inverse), both exclude it ("above 50" against "less than 50": 50 is No on both) or both
    include it. Either way they settle differently exactly at the threshold."""
    if a.strict is None or b.strict is None:
        return False
    if a.direction == b.direction:
        ia, ib = _interval(a), _interval(b)
        return a.strict != b.strict and bool(ia and ib and ia == ib)
    return a.strict == b.strict and _same_cut(a, b)


def _on_against_by(a: Contract, b: Contract) -> bool:
    """A is true on one day ("on the App Store on May 1"), B by a deadline ("return before May 2025"):
    a state at an instant against an event at any time before, whatever the deadline's precision."""
    return a.window == "on" and bool(a.days) and b.window == "by"


def _range_conflict(ia: tuple[float, float] | None, ib: tuple[float, float] | None) -> bool:
    """Two bounded buckets with different ends ("10% to 14.9%" against "10% up to but not including
    15%"): a value between the ends settles them apart, or by a rounding rule only one states."""
    if ia is None or ib is None or not all(map(math.isfinite, (*ia, *ib))):
        return False
    # Ends compared as written, not within ``_within``'s tolerance (half a percent of the largest
    # value: "20% to 24.9%" against "20% up to but not including 25%" hid inside it, and whether an
    # end gap was seen depended on how large the numbers were).
    return any(abs(x - y) > 1e-9 * max(1.0, abs(x), abs(y)) for x, y in zip(ia, ib, strict=True))


# Facets that, when they conflict, rule out "same proposition" whatever the similarity says: the general
# ones (periods, numbers, units, directions, offices, parties, places, subjects, sources, competitions).
HARD_CONFLICTS = (
    "year_conflict", "month_conflict", "day_conflict", "int_disjoint", "num_conflict", "dir_conflict",
    "unit_conflict", "qty_conflict", "party_conflict", "office_conflict", "source_conflict",
    "category_conflict", "eff_deadline_conflict", "competition_conflict", "award_conflict", "rank_conflict",
    "window_day_conflict", "stage_conflict", "place_conflict", "disj_conflict", "subject_conflict",
    "relist_conflict", "strict_conflict", "range_conflict", "bill_conflict",
)  # fmt: skip
# Fine print (``fineprint.py``) and team-name facets, many first written for one labeled pair: features the
# model weighs beside the rules reader, never a veto on their own.
SOFT_FACETS = (
    "school_conflict", "honour_missing", "core_conflict", "nomination_missing", "award_missing",
    "dir_one_sided", "superlative_conflict", "month_one_sided", "extra_path", "stage_one_sided",
    "threshold_one_sided", "exit_one_sided", "first_window_conflict", "announce_one_sided",
    "joint_one_sided", "event_conflict", "extend_one_sided", "qualifier_one_sided", "place_one_sided",
)  # fmt: skip


def pair_features(a: Contract, b: Contract, cos: float, rules_cos: float = -1.0) -> dict[str, float]:
    """Directional features of (A, B); swapping A and B mirrors the directional ones."""
    qa, qb = canon(a.question), canon(b.question)
    ra, rb = fold(a.rules[:600]), fold(b.rules[:600])
    ea, eb = _ent_tokens(a), _ent_tokens(b)
    ia, ib = _interval(a), _interval(b)
    flip = polarity_flip(a, b)
    dir_same = float(bool(a.direction) and (a.direction == b.direction or flip))
    na, nb = frozenset(a.numbers), frozenset(b.numbers)
    dl = _signed_days(a.deadline, b.deadline)
    f = {
        "cos": cos,
        "fuzz_ratio": fuzz.ratio(qa, qb) / 100,
        "fuzz_set": fuzz.token_set_ratio(qa, qb) / 100,
        "fuzz_sort": fuzz.token_sort_ratio(qa, qb) / 100,
        "fuzz_partial": fuzz.partial_ratio(qa, qb) / 100,
        "rules_set": fuzz.token_set_ratio(ra, rb) / 100 if ra and rb else -1.0,
        "rules_cos": rules_cos,
        "rules_a": float(bool(ra)),
        "rules_b": float(bool(rb)),
        "tok_jacc": _jacc(a.tokens, b.tokens),
        "tok_only_a": float(len(a.tokens - b.tokens)),
        "tok_only_b": float(len(b.tokens - a.tokens)),
        "tok_a_cov_b": _coverage(a.tokens, qb + " " + fold(b.rules[:2000])),
        "tok_b_cov_a": _coverage(b.tokens, qa + " " + fold(a.rules[:2000])),
        "ent_jacc": _jacc(ea, eb),
        "ent_a_in_b": _coverage(ea, qb + " " + rb),
        "ent_b_in_a": _coverage(eb, qa + " " + ra),
        "ent_none": float(not ea or not eb),
        "num_jacc": _jacc(na, nb) if na and nb else -1.0,
        "num_conflict": float(bool(na) and bool(nb) and not (na & nb)),
        "num_only_a": float(bool(na) and not nb),
        "num_only_b": float(bool(nb) and not na),
        "dir_same": dir_same,
        "dir_conflict": float(bool(a.direction) and bool(b.direction) and not dir_same),
        "int_a_in_b": float(bool(ia and ib and _within(ia, ib))),
        "int_b_in_a": float(bool(ia and ib and _within(ib, ia))),
        "int_disjoint": float(disjoint(ia, ib)),
        "unit_conflict": float(bool(a.unit) and bool(b.unit) and a.unit != b.unit),
        "qty_jacc": _jacc(a.quantity, b.quantity),
        "qty_conflict": _conflict(a.quantity, b.quantity),
        "qty_asym": float(len(a.quantity ^ b.quantity)),
        "year_conflict": _conflict(a.years, b.years),
        "year_same": float(bool(a.years) and a.years == b.years),
        "month_conflict": _conflict(a.months, b.months),
        "month_same": float(bool(a.months) and a.months == b.months),
        "month_only_one": float(bool(a.months) != bool(b.months)),
        "day_conflict": _conflict(a.days, b.days),
        "deadline_both": float(a.deadline is not None and b.deadline is not None),
        "deadline_diff": dl,
        "deadline_absdiff_log": math.log1p(abs(dl)),
        "deadline_only_a": float(a.deadline is not None and b.deadline is None),
        "deadline_only_b": float(b.deadline is not None and a.deadline is None),
        "eff_deadline_conflict": float(_eff_conflict(a, b)),
        "eff_deadline_absdiff_log": math.log1p(_eff_gap(a, b)),
        "window_conflict": float(bool(a.window) and bool(b.window) and a.window != b.window),
        "rules_deadline_diff": _signed_days(a.rules_deadline, b.rules_deadline),
        "rules_deadline_absdiff_log": math.log1p(abs(_signed_days(a.rules_deadline, b.rules_deadline))),
        "rules_deadline_both": float(a.rules_deadline is not None and b.rules_deadline is not None),
        "stage_conflict": _conflict(a.stage, b.stage),
        "stage_asym": float(len(a.stage ^ b.stage)),
        "office_conflict": _conflict(a.office, b.office),
        "office_asym": float(len(a.office ^ b.office)),
        "party_conflict": _conflict(a.party, b.party),
        "source_conflict": float(bool(a.sources) and bool(b.sources) and a.sources != b.sources),
        "source_jacc": _jacc(a.sources, b.sources) if a.sources and b.sources else -1.0,
        "category_conflict": float(bool(a.category) and bool(b.category) and a.category != b.category),
        "competition_conflict": _conflict(a.competition, b.competition),
        "award_conflict": float(bool(a.award) and bool(b.award) and a.award != b.award),
        "rank_conflict": float(bool(a.rank) and bool(b.rank) and a.rank != b.rank),
        "rank_only_a": float(bool(a.rank) and not b.rank),
        "rank_only_b": float(bool(b.rank) and not a.rank),
        "disj_conflict": float(a.disjunct != b.disjunct),
        "place_conflict": _conflict(a.places, b.places),
        "place_asym": float(len(a.places ^ b.places)),
        "competition_asym": float(len(a.competition ^ b.competition)),
        "subject_sim": _subject_sim(a, b, qa, qb),
        "subject_conflict": float(_subject_conflict(a, b, qa, qb)),
        "relist_conflict": float(_relisted(a, b)),
        "school_conflict": float(
            _state_school(qa, qb) or _state_school(qb, qa) or _team_suffix(a, b, qa, qb)
        ),
        "ent_swap": float(_coverage(ea, qb + " " + rb) < 1 and _coverage(eb, qa + " " + ra) < 1),
        "strict_conflict": float(_strict_conflict(a, b)),
        "window_day_conflict": float(_on_against_by(a, b) or _on_against_by(b, a)),
        "range_conflict": float(_range_conflict(ia, ib)),
        "bill_conflict": float(a.bills != b.bills),
        "len_ratio": min(len(qa), len(qb)) / max(1, len(qa), len(qb)),
        **fine_print(a, b, qa, qb),
    }
    return f


FACET_FEATURES = tuple(pair_features(parse("x"), parse("x"), 0.0))
# The model's columns: the facets, then the rules reader's clause alignment (``reader.py``).
FEATURES = FACET_FEATURES + READER_FEATURES


def hard_facets(a: Contract, b: Contract) -> list[str]:
    """The hard facets on which A and B conflict (any one rules out "same proposition")."""
    f = pair_features(a, b, 0.0)
    return [h for h in HARD_CONFLICTS if f[h] > 0]


def facet_report(a: Contract, b: Contract) -> dict[str, dict[str, Any]]:
    """Per facet: 'agree', 'conflict', 'partial' or 'missing', with both sides' values."""

    def status(x: frozenset[Any], y: frozenset[Any]) -> str:
        if not x and not y:
            return "missing"
        if x == y:
            return "agree"
        return "partial" if x & y else "conflict"

    def show(x: Any) -> Any:
        return sorted(str(v) for v in x) if isinstance(x, frozenset) else (str(x) if x is not None else None)

    rows: dict[str, tuple[Any, Any]] = {
        "entities": (a.entities, b.entities),
        "quantity": (a.quantity, b.quantity),
        "threshold": (frozenset(a.numbers), frozenset(b.numbers)),
        "direction": (frozenset({a.direction} - {""}), frozenset({b.direction} - {""})),
        "years": (a.years, b.years),
        "months": (a.months, b.months),
        "dates": (a.days, b.days),
        "stage": (a.stage, b.stage),
        "office": (a.office, b.office),
        "party": (a.party, b.party),
        "source": (a.sources, b.sources),
        "competition": (a.competition, b.competition),
        "award": (frozenset({a.award} - {""}), frozenset({b.award} - {""})),
        "rank": (frozenset({a.rank} - {0}), frozenset({b.rank} - {0})),
        "place": (a.places, b.places),
        "subject": (
            frozenset({a.subject, a.rules_subject} - {""}),
            frozenset({b.subject, b.rules_subject} - {""}),
        ),
        "catch_all": (
            frozenset({"or another"} if a.disjunct else ()),
            frozenset({"or another"} if b.disjunct else ()),
        ),
    }
    out = {k: {"status": status(x, y), "a": show(x), "b": show(y)} for k, (x, y) in rows.items()}
    da, db = a.deadline, b.deadline
    dl_status = (
        "missing" if da is None or db is None else ("agree" if abs((da - db).days) <= 3 else "conflict")
    )
    out["deadline"] = {"status": dl_status, "a": show(da), "b": show(db)}
    if a.venue and a.venue == b.venue and a.close is not None and b.close is not None:
        out["listing"] = {
            "status": "conflict" if _relisted(a, b) else "agree",
            "a": show(a.close.date()),
            "b": show(b.close.date()),
        }
    out["polarity"] = {"status": "flipped" if polarity_flip(a, b) else "same", "a": a.negated, "b": b.negated}
    return out
