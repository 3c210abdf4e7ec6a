"""Structure before text: what a venue states (strikes, group item, resolution source, expected
expiration) decides the contract's facets, and is compared exactly where both markets state it."""

from __future__ import annotations

from datetime import UTC, datetime

from oneprice.alignment.contract import Terms, parse
from oneprice.alignment.features import effective_deadline, hard_facets
from oneprice.alignment.scoring import contract_of
from oneprice.core import Market


def test_stated_strikes_win_over_the_text() -> None:
    # Kalshi's title says "above 4.5%" loosely; its strike says strictly greater than 4.5
    k = parse("Fed funds rate above 4.5%?", terms=Terms("greater_or_equal", 4.5, None))
    assert (k.direction, k.lo, k.strict, k.stated) == ("above", 4.5, False, True)
    between = parse("How many Secretaries of State will Trump have? (5)", terms=Terms("between", 5.0, 5.0))
    assert (between.direction, between.lo, between.hi) == ("exact", 5.0, 5.0)
    assert parse("Will X happen?", terms=Terms("custom")).stated is False


def test_strict_against_inclusive_threshold_conflicts() -> None:
    above = parse("Will Bitcoin be above $100,000 on March 1, 2025?")
    at_least = parse("Will Bitcoin be at least $100,000 on March 1, 2025?")
    kalshi_strict = parse("Bitcoin above $100,000 on March 1, 2025?", terms=Terms("greater", 100000.0, None))
    assert "strict_conflict" in hard_facets(above, at_least)
    assert "strict_conflict" in hard_facets(kalshi_strict, at_least)
    assert "strict_conflict" not in hard_facets(kalshi_strict, above)


def test_group_item_states_the_outcome_a_title_leaves_out() -> None:
    generic = parse("What share of the vote will the SPD get?", terms=Terms(group_item="25-30%"))
    assert (generic.direction, generic.lo, generic.hi) == ("range", 25.0, 30.0)
    named = parse("Who will win the 2025 BAFTA for Best Film?", terms=Terms(group_item="Anora"))
    assert named.rules_subject == "anora"


def test_resolution_source_is_a_source() -> None:
    c = parse("CPI above 3% in March?", terms=Terms(resolution_source="https://www.bls.gov/cpi/"))
    d = parse("CPI above 3% in March?", terms=Terms(resolution_source="Federal Reserve Bank of Cleveland"))
    assert "bls" in c.sources and "source_conflict" in hard_facets(c, d)


def test_expected_expiration_is_a_coarse_deadline_of_last_resort() -> None:
    m = Market(
        venue="kalshi",
        market_id="KXEVENT-X",
        question="Will the treaty be signed?",
        close_time=datetime(2027, 1, 1, tzinfo=UTC),  # an administrative close a year out
        expected_expiration=datetime(2026, 3, 1, 15, tzinfo=UTC),
    )
    assert effective_deadline(contract_of(m)).isoformat() == "2026-03-01"


def test_a_stated_date_a_month_apart_is_another_window() -> None:
    """A date the rules state is exact even where a Kalshi ticker repeats it (25MAY01); only a year's end
    is coarse. "Before May 1, 2025" against "by March 31, 2025" is two windows."""
    close = datetime(2025, 5, 1, 12, tzinfo=UTC)
    lake = "If Kari Lake has been appointed to the Trump Administration before May 1, 2025, then Yes."
    kalshi = parse(
        "Will Kari Lake join the Trump Administration?", lake, close, "kalshi", "KXTRUMPOFFICIAL-25MAY01-KLA"
    )
    by_march = "This market will resolve to Yes if Trump appoints Kari Lake by March 31, 2025, 11:59 PM ET."
    mar31 = datetime(2025, 3, 31, tzinfo=UTC)
    poly = parse(
        "Will Kari Lake be a member of the Trump administration?", by_march, mar31, "polymarket", "0x03"
    )
    assert "eff_deadline_conflict" in hard_facets(kalshi, poly)
    reserve = (
        "If Texas creates a strategic bitcoin reserve before Jan 1, 2026, then the market resolves to Yes."
    )
    year_end = parse(
        "Will Texas create a bitcoin reserve before 2026?", reserve, close, "kalshi", "KXTEXASBTC-26"
    )
    dec10 = datetime(2025, 12, 10, tzinfo=UTC)
    december = parse(
        "Texas bitcoin reserve in 2025?", "Resolves Yes if created in 2025.", dec10, "polymarket", "0x4"
    )
    assert "eff_deadline_conflict" not in hard_facets(year_end, december)  # a year's end is coarse


def test_buckets_with_different_ends_conflict() -> None:
    """'10% to 14.9%' (Kalshi's stated between-strikes) against '10-15%': a value between 14.9 and 15
    settles them apart (or a rounding rule only one states); the same bucket does not conflict."""
    kalshi = parse("What share of the vote will the SPD get?", terms=Terms("between", 10.0, 14.9))
    poly = parse("Will the SPD win 10-15% of the vote in the German election?")
    same = parse("Will the SPD win between 10% and 14.9% of the vote?")
    assert "range_conflict" in hard_facets(kalshi, poly)
    assert "range_conflict" not in hard_facets(kalshi, same)
    assert "range_conflict" not in hard_facets(parse("CPI above 3% in May?"), parse("CPI above 3% in May?"))


def test_a_point_in_time_against_a_deadline_is_another_window() -> None:
    """'On the App Store on May 1' is a state at one instant; 'return before May 2025' an event at any
    time before: whatever precision the deadline has, they are two contracts."""
    on = parse("Will TikTok be on the App Store on May 1, 2025?")
    by = parse("Will TikTok return to the app store before May 2025?")
    assert "window_day_conflict" in hard_facets(on, by) and "window_day_conflict" in hard_facets(by, on)
    assert "window_day_conflict" not in hard_facets(
        by, parse("Will TikTok return to the App Store by April?")
    )


def test_a_named_bill_is_not_any_act() -> None:
    """The rules name a bill by number ('H.B. 1598 is signed into law'); the other market settles on any
    act ('Texas creates a strategic bitcoin reserve'): two contracts. Two markets on one bill agree."""
    q = "Will the Texas Strategic Bitcoin Reserve Act become law in 2025?"
    named = parse(q, "This market will resolve to Yes if H.B. 1598, the Texas Strategic Bitcoin Reserve Act, "
                     "is signed into law by December 31, 2025.")  # fmt: skip
    any_act = parse(q, "If Texas creates a strategic bitcoin reserve before Jan 1, 2026, then Yes.")
    also_named = parse(q, "Resolves Yes if HB 1598 becomes law in 2025.")
    assert named.bills == frozenset({"hb1598"})
    assert "bill_conflict" in hard_facets(named, any_act)
    assert "bill_conflict" not in hard_facets(named, also_named)
    assert parse("Will the U.S. 2025 deficit exceed $2T?").bills == frozenset()


def test_a_bracket_edge_rule_sets_the_thresholds_inclusivity() -> None:
    """'More than 300k' whose rules send a value exactly between two brackets to the higher one counts
    300k as Yes: against Kalshi's strictly-greater strike they settle apart at exactly 300k."""
    edge = (
        "If the reported value falls exactly between two brackets, then this market will resolve to the "
        "higher range bracket."
    )
    poly = parse("Will more than 300k jobs be added in February?", edge)
    kalshi = parse(
        "Will above 300000 jobs be added in February 2025?", terms=Terms("greater", 300000.0, None)
    )
    assert poly.strict is False and parse("Will more than 300k jobs be added in February?").strict is True
    assert "strict_conflict" in hard_facets(kalshi, poly)
    below = parse("Will fewer than 100k jobs be added in February?", edge)
    assert below.strict is True
