"""Parse a market's question and rules into a structured contract (its resolution facets)."""

from __future__ import annotations

import re
import unicodedata
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from oneprice.alignment import lexicon as lx


@dataclass(frozen=True, slots=True)
class Contract:
    question: str
    rules: str
    entities: frozenset[str]  # normalised proper names from the question
    tokens: frozenset[str]  # content words of the question
    quantity: frozenset[str]  # measured quantities (cpi, payrolls, price, seats, ...)
    unit: str  # "%", "$", "°", "" ...
    numbers: tuple[float, ...]  # thresholds and bucket bounds in the question (no dates)
    direction: str  # above | below | range | exact | ""
    lo: float | None  # the event's interval: A YES when value in [lo, hi]
    hi: float | None
    years: frozenset[int]
    months: frozenset[int]  # months named in the question (the measured period or deadline)
    days: frozenset[tuple[int, int]]  # (month, day) dates named in the question
    deadline: date | None  # "by/before X" or end of named period
    window: str  # by | on | in | ""
    stage: frozenset[str]
    office: frozenset[str]
    party: frozenset[str]
    sources: frozenset[str]
    category: str
    negated: bool
    close: datetime | None
    rules_deadline: date | None = None  # the latest date the rules name (often the real deadline)
    venue: str = ""  # venues differ in conventions (Kalshi close times are a far "latest expiration")
    competition: frozenset[str] = frozenset()  # named league, tournament or award show
    award: str = ""  # award category ("best actress")
    rank: int = 0  # finishing position asked for (1 = most seats / first place), 0 when none
    disjunct: bool = False  # "X or another Democrat", "another party": a catch-all, wider than "X"
    places: frozenset[str] = frozenset()  # countries, states and provinces named in the question
    subject: str = ""  # the first name in the question
    rules_subject: str = ""  # the name the rules open with, when the question omits it
    last_name: str = ""  # the last name in the question (its object: "vote for Robert F. Kennedy Jr.")
    rules_year_end: date | None = None  # "before 2026" in the rules: the year's end, a coarse deadline
    ticker_date: date | None = None  # the date a Kalshi ticker names ("KXTARIFFCOUNTRY-26JAN01-PRC")
    rules_joint: bool = False  # the rules' subject is two people ("If X Y and Z W win the first round")
    strict: bool | None = None  # the threshold excludes its value ("above 5") or not ("at least 5")
    expected: date | None = None  # a venue's stated expected settlement (Kalshi expected_expiration_time)
    stated: bool = False  # the threshold or bucket comes from the venue's strike fields, not the text
    bills: frozenset[str] = frozenset()  # bill numbers named in the question or rules ("hb1598", "hr1")


@lru_cache(maxsize=1 << 15)  # pair features fold the same rules texts many times over
def fold(text: str) -> str:
    """Lowercase, strip accents, normalise quotes and dashes."""
    t = unicodedata.normalize("NFKD", text)
    t = "".join(c for c in t if not unicodedata.combining(c))
    return t.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"').replace("–", "-").lower()


@lru_cache(maxsize=1 << 15)
def canon(text: str) -> str:
    """``fold`` plus one spelling for phrases with one meaning ("march madness", "ncaa tournament")."""
    return _SYN_RX.sub(lambda m: _SYN[m.group(0)], fold(text))


_SYN = dict(lx.SYNONYMS)
_SYN_RX = re.compile(r"(?<![a-z0-9])(" + "|".join(re.escape(k) for k in _SYN) + r")(?![a-z0-9])")


_AWARD = re.compile(
    r"\bbest ([a-z' -]+?)(?= at\b| in\b| for\b| award|\?|,|$)"
    r"|\bwin (?!the\b)([a-z' -]+?) at the (?:\d{4} )?(?:oscars|academy|bafta|golden globe|grammy|emmy|sag)"
)
_DISJ = re.compile(
    r"\bor (another|any other|other)\b|\bor (a|an) [a-z]+ (nominee|candidate)\b"
    r"|^(will )?(another|any other)\b|\b(on|in|by|from|for) (the )?any (country|state|team|party|nation)\b"
)


def _rank(q: str) -> int:
    for rank, rx in lx.RANKS:
        if re.search(rx, q):
            return rank
    return 0


def _stages(q: str) -> frozenset[str]:
    hits = _hits(q, lx.STAGES)
    if "conference final" in q or "conference championship" in q:  # not "the Finals"
        hits = (hits - {"final"}) | {"conference"}
    return hits


_WORD = re.compile(r"[a-z0-9][a-z0-9'&.]*")
_QUOTED = re.compile(r"[\"']([^\"']{2,60})[\"']")
_CAPS = re.compile(
    r"(?:[A-Z][\w&.'/-]*|\d+(?:st|nd|rd|th))(?:\s+(?:of|the|de|and|&|van|von)?\s*[A-Z][\w&.'/-]*)*"
)
_NUM = re.compile(
    r"(?<![\w.])(-?\$?-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\$?-?\d+(?:\.\d+)?)\s*(%|°c|°f|°|k\b|m\b|b\b|bps\b|"
    r"million\b|billion\b|trillion\b|thousand\b)?"
)
_DATE_MD = re.compile(rf"\b({lx.MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s*(\d{{4}}))?")
_DATE_MY = re.compile(rf"\b({lx.MONTH_RE})\.?(?:\s*,?\s*(\d{{4}}))?\b")
_YEAR = re.compile(r"(?<![$\d.,])\b(19[5-9]\d|20[0-9]\d)\b(?![.,]\d|\s*%)")
_SEASON = re.compile(r"\b(20\d\d)\s*[-/]\s*(\d\d)\b")
_QUARTER = re.compile(r"\bq([1-4])\b")
_RANGE = re.compile(r"(-?\$?[\d,.]+)\s*%?\s*(?:-|to|and)\s*(-?\$?[\d,.]+)")
_BY = re.compile(
    r"\b(by|before|until|through|in|on|at|during|prior to|end of)\s+(?:the\s+end\s+of\s+)?"
    rf"({lx.MONTH_RE}|20\d\d)"
)


def _rules_deadline(r: str) -> date | None:
    """Latest full date (month day, year) named in the rules."""
    best: date | None = None
    for name, day, year in _DATE_MD.findall(r[:3000]):
        if not year:
            continue
        try:
            d = date(int(year), _month(name), int(day))
        except ValueError:
            continue
        best = d if best is None or d > best else best
    return best


_BEFORE_YEAR = re.compile(r"\bbefore (20\d\d)\b(?![,/-]\d)|\b20\d\d ?- ?(20\d\d) term\b")


def _rules_year_end(r: str) -> date | None:
    """The last day before the year the rules say "before" ("before 2026": Dec 31, 2025), or before the
    year a term ends ("the 2025-2029 term": Dec 31, 2028)."""
    years = [int(y or t) for y, t in _BEFORE_YEAR.findall(r[:3000])]
    return date(max(years) - 1, 12, 31) if years else None


_TICKER_DATE = re.compile(r"-(\d\d)-?([A-Z]{3})(\d\d)(?=-|$)")


def _ticker_date(venue: str, market_id: str) -> date | None:
    """The date in a Kalshi ticker (YYMONDD or YY-MONDD: "26JAN01" is January 1, 2026). It names the end
    of the event's window even where the title does not ("... in the first 100 days?", ticker 26JAN01)."""
    m = _TICKER_DATE.search(market_id) if venue.lower().startswith("kalshi") else None
    if m is None or m.group(2).lower() not in lx.MONTHS:
        return None
    try:
        return date(2000 + int(m.group(1)), lx.MONTHS[m.group(2).lower()], int(m.group(3)))
    except ValueError:
        return None


def _month(name: str) -> int:
    return lx.MONTHS[name.lower().rstrip(".")[:3]]


def _to_float(raw: str, suffix: str | None) -> float | None:
    s = raw.replace("$", "").replace(",", "")
    try:
        v = float(s)
    except ValueError:
        return None
    mult = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "b": 1e9, "billion": 1e9, "trillion": 1e12}
    return v * mult.get((suffix or "").strip(), 1.0)


_LEAD = re.compile(r"^\s*(will|is|are|does|do|did|can|has|have|who|what|which|how|when)\b", re.I)


def _names(question: str) -> list[tuple[int, str]]:
    """Quoted text and capitalised runs of the question, with their positions."""
    q = _LEAD.sub("", question)
    found = [(m.start(), m.group(1)) for m in _QUOTED.finditer(q)]
    for m in _CAPS.finditer(q):
        words = [w for w in fold(m.group(0)).split() if w not in lx.CAP_STOP]
        if words and not words[0][:1].isdigit():
            found.append((m.start(), " ".join(words)))
    return sorted(found)


def _subject(found: list[tuple[int, str]]) -> str:
    """The first name in the question (its subject, usually)."""
    return canon(found[0][1]).strip() if found else ""


def _last_name(found: list[tuple[int, str]]) -> str:
    """The last name in the question, when it has two or more (its object, usually)."""
    return canon(found[-1][1]).strip() if len(found) > 1 else ""


_IF = re.compile(r"\s*If\s+")
_YES_NO = re.compile(r"\s*(will|is|are|does|do|did|can|has|have|would|could)\b")  # a stated proposition
# The outcome a Kalshi rules text opens with: "If AfD receives 10% or below share of the vote ..., then"
_RULES_IF = re.compile(r"\s*if\s+(.{3,240}?),?\s+then\b")


def _rules_subject(question: str, rules: str) -> tuple[str, bool]:
    """The name a rules text opens with ("If Anora has won Best Film...") when the question omits it:
    Kalshi's generic titles ("2025 BAFTA for Best Film?") put the outcome only in the rules. And whether
    that name is two people at once ("If Călin Georgescu and Marcel Ciolacu win the first round"): a
    market on the pair, not on either."""
    m = _IF.match(rules)
    c = _CAPS.match(rules, m.end()) if m else None
    if c is None:
        return "", False
    words = [w for w in fold(c.group(0)).split() if w not in lx.CAP_STOP]
    name = canon(" ".join(words)).strip()
    q = canon(question)
    if not name or any(re.search(rf"\b{re.escape(w)}\b", q) for w in name.split()):
        return "", False
    parts = c.group(0).split(" and ")
    return name, len(parts) >= 2 and all(len(p.split()) >= 2 for p in parts)


def _entities(question: str) -> frozenset[str]:
    ents: set[str] = set()
    q = _LEAD.sub("", question)
    for m in _QUOTED.finditer(q):
        ents.add(canon(m.group(1)).strip())
    for m in _CAPS.finditer(q):
        words = [w for w in fold(m.group(0)).split() if w not in lx.CAP_STOP]
        if words:
            ents.add(canon(" ".join(words)))
    return frozenset(e for e in ents if e and not e.isdigit())


def _dates(q: str, ref_year: int | None) -> tuple[set[int], set[int], set[tuple[int, int]], date | None, str]:
    years = {int(y) for y in _YEAR.findall(q)}
    for _a, b in _SEASON.findall(q):
        years.add(2000 + int(b))
    months: set[int] = set()
    days: set[tuple[int, int]] = set()
    for name, day, _y in _DATE_MD.findall(q):
        if 1 <= int(day) <= 31:
            days.add((_month(name), int(day)))
    for name, _y in _DATE_MY.findall(q):
        months.add(_month(name))
    deadline: date | None = None
    window = ""
    m = _BY.search(q)
    if m:
        word = m.group(1)
        window = "by" if word in ("by", "before", "until", "through", "prior to", "end of") else word
        window = "on" if window == "at" else window
        tail = q[m.start(2) :]
        y_m = _YEAR.match(tail)
        year = int(y_m.group(1)) if y_m else None
        md = _DATE_MD.match(tail)
        my = _DATE_MY.match(tail)
        yr = (int(md.group(3)) if md and md.group(3) else None) or (
            int(my.group(2)) if my and my.group(2) else None
        )
        yr = yr or (max(years) if years else ref_year)
        try:
            if year is not None:
                deadline = date(year, 1, 1) if word == "before" else date(year, 12, 31)
            elif md and yr:
                deadline = date(yr, _month(md.group(1)), int(md.group(2)))
            elif my and yr:
                mo = _month(my.group(1))
                deadline = date(yr, mo, 1) if word == "before" else date(yr, mo, monthrange(yr, mo)[1])
        except ValueError:
            deadline = None
        if word == "before" and deadline is not None:  # "before 2026" covers 2025, "before May" April
            prev = deadline - timedelta(days=1)
            years.add(prev.year)
            if months:
                months.add(prev.month)
            if year is None:  # "before Apr 2025" is "by March 31" (a year's end is left as it was)
                deadline = prev
    return years, months, days, deadline, window


def _numbers(q: str) -> tuple[list[float], str]:
    clean = _DATE_MD.sub(" ", q)
    clean = _SEASON.sub(" ", clean)
    clean = _YEAR.sub(" ", clean)
    clean = _QUARTER.sub(" ", clean)
    clean = re.sub(r"\b\d+(st|nd|rd|th)\b", " ", clean)
    clean = re.sub(r"\b\d{1,2}(:\d\d)?\s*(am|pm)\b", " ", clean)
    clean = re.sub(r"[a-z&]+-?\d+[a-z0-9]*|s&p 500", " ", clean)  # h5n1, q1, nasdaq-100, s&p 500
    nums: list[float] = []
    unit = ""
    for raw, suffix in _NUM.findall(clean):
        v = _to_float(raw, suffix)
        if v is None:
            continue
        nums.append(v)
        if "$" in raw:
            unit = "$"
        elif suffix and suffix.startswith(("%", "°")):
            unit = suffix[0]
    return nums, unit


def _direction(q: str, nums: list[float]) -> tuple[str, float | None, float | None]:
    if not nums:
        return "", None, None
    if (any(w in q for w in lx.RANGE_WORDS) and len(nums) >= 2) or (_RANGE.search(q) and len(nums) >= 2):
        lo, hi = sorted(nums[:2])
        while 0 < lo < 1000 and hi >= 1000 * lo:  # "200-250k": the suffix applies to both ends
            lo *= 1000
        return "range", lo, hi
    v = nums[0]
    if any(w in q for w in lx.ABOVE_WORDS):
        return "above", v, None
    if any(w in q for w in lx.BELOW_WORDS):
        return "below", None, v
    if any(w in q for w in lx.EXACT_WORDS):
        return "exact", v, v
    return "", None, None


_TIME = re.compile(r"\b\d{1,2}(:\d\d)?\s*(am|pm)\b")  # "5 pm" is a time, not a prime minister
_PUNCT = re.compile(r"[?!,;:()\"]|\.(?=\s|$)")  # "in Texas?" names Texas


def _hits(text: str, table: dict[str, tuple[str, ...]]) -> frozenset[str]:
    padded = f" {_PUNCT.sub(' ', _TIME.sub(' ', text))} "
    return frozenset(k for k, rx in _compiled(table).items() if rx.search(padded))


def _canon_word(w: str) -> str:
    """A lexicon word as canonical text spells it, keeping its trailing space (a whole-word marker)."""
    word = canon(w.strip())
    return word + " " if w.endswith(" ") else word


_RX_CACHE: dict[int, dict[str, re.Pattern[str]]] = {}


def _compiled(table: dict[str, tuple[str, ...]]) -> dict[str, re.Pattern[str]]:
    """One regex per key; each word must start at a word boundary (words may be prefixes). Words are
    spelt as ``canon`` spells them (the text searched is canonical: "rate hike" is "rate increase")."""
    got = _RX_CACHE.get(id(table))
    if got is None:
        got = {
            k: re.compile("|".join(rf"(?<![a-z0-9]){re.escape(_canon_word(w))}" for w in ws))
            for k, ws in table.items()
        }
        _RX_CACHE[id(table)] = got
    return got


@dataclass(frozen=True, slots=True)
class Terms:
    """What a venue states about a contract beside its text (``core.types.Market`` fields)."""

    strike_type: str = ""
    floor: float | None = None
    cap: float | None = None
    expected: datetime | None = None
    group_item: str = ""
    resolution_source: str = ""


NO_TERMS = Terms()
_STRICT_NOT = ("at least", "or more", "or above", "or higher", "or greater", "+", ">=", "no less than",
               "or below", "or less", "or lower", "at most", "<=", "no more than", "or fewer")  # fmt: skip
_STRICT = ("above", "more than", "greater than", "over ", "exceed", "higher than", "below", "less than",
           "fewer than", "under ", "lower than", ">", "<")  # fmt: skip


def _strictness(text: str) -> bool | None:
    """Whether a one-sided threshold excludes its own value: "above 5" yes, "5 or more" no."""
    if any(w in text for w in _STRICT_NOT):
        return False
    if any(w in text for w in _STRICT):
        return True
    return None


# A bracket rule for a value on an edge: it settles the threshold's inclusivity whatever the title says.
_EDGE_RULE = re.compile(
    r"exactly (?:between|on the (?:boundary|border|edge) (?:of|between)) two (?:brackets|ranges|buckets)"
    r"[^.]{0,80}?\b(higher|lower)\b"
)


def _stated(t: Terms) -> tuple[str, float | None, float | None, bool | None] | None:
    """Direction, interval and strictness from a venue's strike fields, where it states them."""
    kind = t.strike_type.lower()
    if kind in ("greater", "greater_or_equal") and t.floor is not None:
        return "above", t.floor, None, kind == "greater"
    if kind in ("less", "less_or_equal") and t.cap is not None:
        return "below", None, t.cap, kind == "less"
    if kind == "between" and t.floor is not None and t.cap is not None:
        return ("exact" if t.floor == t.cap else "range"), t.floor, t.cap, None
    return None


def parse(
    question: str,
    rules: str = "",
    close: datetime | None = None,
    venue: str = "",
    market_id: str = "",
    terms: Terms = NO_TERMS,
) -> Contract:
    """Structured facets of one binary market; what the venue states (``terms``) wins over the text."""
    q = canon(question).strip()
    r = fold(rules or "")
    ref_year = close.year if close else None
    years, months, days, deadline, window = _dates(q, ref_year)
    nums, unit = _numbers(q)
    direction, lo, hi = _direction(q, nums)
    strict = _strictness(q) if direction in ("above", "below") else None
    clause = _RULES_IF.match(r)
    item = canon(terms.group_item).strip()
    if not nums and item and item not in q:  # a group's outcome ("25-30%") the title leaves out
        nums, unit = _numbers(item)
        direction, lo, hi = _direction(item, nums)
        strict = _strictness(item) if direction in ("above", "below") else None
    if not nums and clause and not _YES_NO.match(q):  # a generic title ("What share of the vote ...?")
        outcome = canon(clause.group(1))
        nums, unit = _numbers(outcome)
        direction, lo, hi = _direction(outcome, nums)
        strict = _strictness(outcome) if direction in ("above", "below") else None
    edge = _EDGE_RULE.search(r)
    if edge and direction in ("above", "below") and not terms.strike_type:
        # "a value exactly between two brackets resolves to the higher": the edge belongs to the upper side
        strict = (direction == "above") == (edge.group(1) == "lower")
    stated = _stated(terms)
    if stated is not None:
        direction, lo, hi, strict = stated
        nums = nums or [v for v in (lo, hi) if v is not None]
    names = _names(question)
    rules_subject, rules_joint = _rules_subject(question, rules or "")
    named = any(re.search(rf"\b{re.escape(w)}\b", q) for w in item.split())
    if not rules_subject and item and not named and not any(ch.isdigit() for ch in item):
        rules_subject = item  # the group's outcome names who or what the title leaves out
    tokens = frozenset(w.strip("'.") for w in _WORD.findall(q) if w not in lx.STOP and len(w) > 1)
    negated = bool(re.search(r"\b(not|n't|no longer|fail to|fails to|never)\b", q))
    return Contract(
        question=question,
        rules=rules or "",
        entities=_entities(question),
        tokens=tokens,
        quantity=_hits(q, lx.QUANTITIES),
        unit=unit,
        numbers=tuple(nums),
        direction=direction,
        lo=lo,
        hi=hi,
        years=frozenset(years),
        months=frozenset(months),
        days=frozenset(days),
        deadline=deadline,
        window=window,
        stage=_stages(q),
        office=_hits(q, lx.OFFICES),
        party=_hits(q, lx.PARTIES),
        sources=_hits(r, lx.SOURCES) | _hits(fold(terms.resolution_source), lx.SOURCES),
        category=next((c for c in lx.CATEGORIES if c in _hits(q, lx.CATEGORIES)), ""),
        negated=negated,
        close=close,
        rules_deadline=_rules_deadline(r),
        venue=venue.lower(),
        competition=_hits(q, lx.COMPETITIONS),
        award=_award(q),
        rank=_rank(q),
        disjunct=bool(_DISJ.search(q)),
        places=_places(q),
        subject=_subject(names),
        rules_subject=rules_subject,
        rules_year_end=_rules_year_end(r),
        last_name=_last_name(names),
        ticker_date=_ticker_date(venue, market_id),
        rules_joint=rules_joint,
        strict=strict,
        expected=terms.expected.date() if terms.expected else None,
        stated=stated is not None,
        bills=_bills(q) | _bills(r),
    )


# A bill by its number: "H.R. 1", "H.B. 1598", "S.B. 21" (a named bill, narrower than any act).
_BILL = re.compile(
    r"(?<![a-z0-9.])(h\.?\s?r|h\.?\s?b|s\.?\s?b|a\.?\s?b)\.?\s?(\d{1,5})(?![\d,.]*\d|\s?%|\s?(?:pm|am)\b)"
)


def _bills(text: str) -> frozenset[str]:
    return frozenset(re.sub(r"[^a-z]", "", k) + n for k, n in _BILL.findall(text))


def _places(q: str) -> frozenset[str]:
    """Places named in the question; one inside a longer one named there ("Virginia" in "West
    Virginia") is not named on its own."""
    hits = _hits(q, lx.PLACES)
    inside = {p for p in hits for o in hits if p != o and re.search(rf"\b{re.escape(p)}\b", o)}
    return hits - inside


def _award(q: str) -> str:
    m = _AWARD.search(q)
    return re.sub(r"^best ", "", (m.group(1) or m.group(2) or "").strip()) if m else ""
