"""Trading safety: what a scanner must say before it shows a cross-venue edge as clean.

A pair nobody has reviewed is marked ``unreviewed``. Where either venue states no rules (or an unfilled
template), or rules too short to decide how the contract settles (one line that names no measure, source
or tie rule for a question about a number, a rank or a leaderboard), the pair is ``thin_rules``: shown,
never as a clean edge.
An edge far above the usual cross-venue deviation (2-4% in the literature) on an unreviewed pair is
far likelier a mismatch than a gift: it is ``held_for_review`` and not alerted until confirmed.
"""

from __future__ import annotations

import re
from decimal import Decimal

from oneprice.core import Market

UNREVIEWED = "unreviewed"
THIN_RULES = "thin_rules"
HELD = "held_for_review"
# An unreviewed pair whose edge per $1 set exceeds this goes to review before any alert.
REVIEW_EDGE = Decimal("0.10")
_THIN_CHARS = 160
_MIN_CHARS = 20
_PLACEHOLDER = re.compile(r"\|\|[^|]{1,40}\|\||\{\{[^}]{1,40}\}\}")  # "If || disease || becomes a pandemic"
_SENTENCE = re.compile(r"[.!?](?:\s|$)")
# Questions whose settlement hangs on a measure, a ranking or a count: the rules must name it.
_NEEDS_MEASURE = re.compile(
    r"\d|\b(most|top|rank\w*|highest|lowest|largest|biggest|leader\w*|first|last|how many|how much|"
    r"record|best|worst|more|less|fewer|above|below|over|under)\b",
    re.I,
)
# Words and numbers that name a period or a title, not a measure: years, dates, times of day, "first
# year" / "first 100 days" windows, seasons ("2024-25"), ordinal editions ("97th") and award titles
# ("Best Director", a category the award body decides).
_NOT_MEASURE = re.compile(
    r"\b(?:19|20)\d\d(?:-\d\d)?\b|"
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.? \d{1,2}(?:st|nd|rd|th)?\b|"
    r"\b\d{1,2}(?::\d\d)?\s*(?:am|pm|et|pt)\b|"
    r"\bfirst (?:\d+ )?(?:day|week|month|year|quarter|term)s?\b|"
    r"\b\d+(?:st|nd|rd|th) (?:annual|edition|academy|grammy|season|congress|parliament)\b",
    re.I,
)
_AWARD_TITLE = re.compile(r"\bBest(?: [A-Z][a-z]+)+")  # capitalised: a title, not "best model"
# What makes a short rule decidable anyway: a named source, measure or tie rule.
_NAMES_SOURCE = re.compile(
    r"\b(source|according to|as reported|reported by|published|data|index|official|tie|tied|ties|"
    r"measured|settle\w* (?:on|using|by)|https?://)\b",
    re.I,
)


def thin_rules(m: Market) -> bool:
    """The market's rules are too short to decide how it settles: none at all (or an unfilled template),
    or one short sentence that names no source, measure or tie rule for a question about a number, a
    rank or a leaderboard (a year, a date, a "first 100 days" window or an award's title is no measure)."""
    rules = m.rules.strip()
    if len(rules) < _MIN_CHARS or _PLACEHOLDER.search(rules):  # none, or a template never filled in
        return True
    long = len(rules) >= _THIN_CHARS * 2
    if long or (len(_SENTENCE.findall(rules)) >= 2 and len(rules) >= _THIN_CHARS):
        return False
    asked = _AWARD_TITLE.sub(" ", _NOT_MEASURE.sub(" ", m.question))
    return bool(_NEEDS_MEASURE.search(asked)) and not _NAMES_SOURCE.search(rules)


def flags(market_a: Market, market_b: Market, reviewed: bool, edge: Decimal | None) -> list[str]:
    """The warnings a pair's edge carries; an empty list is a clean edge."""
    out = []
    if not reviewed:
        out.append(UNREVIEWED)
    if thin_rules(market_a) or thin_rules(market_b):
        out.append(THIN_RULES)
    if not reviewed and edge is not None and edge > REVIEW_EDGE:
        out.append(HELD)
    return out
