"""Contract parsing: the facets a reader uses to tell look-alikes apart."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from oneprice.alignment.contract import canon, fold, parse

CLOSE = datetime(2025, 6, 1, tzinfo=UTC)


def test_threshold_direction_unit_and_period() -> None:
    c = parse(
        "Will the rate of CPI inflation be above 2.3% for the year ending in October 2024?", close=CLOSE
    )
    assert c.direction == "above" and c.lo == 2.3 and c.hi is None and c.unit == "%"
    assert c.years == {2024} and c.months == {10}
    assert "cpi" in c.quantity and c.category == "economy"


def test_bucket_with_shared_suffix_and_index_name_is_not_a_number() -> None:
    jobs = parse("Will the US add 200-250k jobs in October?", close=CLOSE)
    assert (jobs.direction, jobs.lo, jobs.hi) == ("range", 200_000, 250_000)
    ndx = parse("Will the Nasdaq-100 be between 20400 and 20499.99 at the end of Oct 30, 2024?")
    assert ndx.numbers == (20400, 20499.99) and ndx.days == {(10, 30)} and ndx.deadline == date(2024, 10, 30)


def test_dollar_amount_is_not_a_year() -> None:
    c = parse("Will Ethereum dip to $2000 by February 28 2025?")
    assert c.numbers == (2000,) and c.unit == "$" and c.direction == "below"
    assert c.years == {2025} and c.deadline == date(2025, 2, 28) and c.window == "by"


@pytest.mark.parametrize(
    ("question", "deadline"),
    [
        ("Will Trump impose tariffs on Mexico before March?", date(2025, 2, 28)),
        ("Will a new country buy Bitcoin before 2026?", date(2026, 1, 1)),  # a year's end stays as it was
        ("Will Sam Altman be granted an equity stake in OpenAI before Jan 1, 2026?", date(2025, 12, 31)),
        ("Will the U.S. recognize Syria before Apr 2025?", date(2025, 3, 31)),
        ("Will GDP grow by March 2025?", date(2025, 3, 31)),
        ("Will a new country buy Bitcoin in 2025?", date(2025, 12, 31)),
    ],
)
def test_deadlines(question: str, deadline: date) -> None:
    assert parse(question, close=CLOSE).deadline == deadline


def test_entities_stage_office_party() -> None:
    c = parse('Will "Sing Sing" win Best Adapted Screenplay at the 2025 Oscars?')
    assert "sing sing" in c.entities and c.category == "awards"
    nba = parse("Will the Dallas Mavericks win the NBA Western Conference Finals?")
    assert nba.stage == {"conference"} and "dallas mavericks" in nba.entities  # not "the Finals"
    assert parse("Will the Dallas Mavericks win the 2025 NBA Finals?").stage == {"final"}
    pres = parse("Will the Republican party win North Carolina in the presidential election?")
    assert pres.party == {"republican"} and "president" in pres.office


def test_negation_and_resolution_source() -> None:
    c = parse("Will the Fed not cut rates in March?", "Resolves per the Federal Reserve (FOMC) statement.")
    assert c.negated and "fed" in c.sources
    assert not parse("Will the Fed cut rates in March?").negated


def test_fold_strips_accents_and_quotes() -> None:
    assert fold("Mélanie Joly’s “Liberal” – bid") == 'melanie joly\'s "liberal" - bid'


def test_competition_award_rank_catch_all_places_subject() -> None:
    sag = parse('Will Karla Sofía Gascón win Best Actor at the 2025 SAG Award for "Emilia Pérez"?')
    oscar = parse("Will Karla Sofia Gascon win Best Actress at the Oscars?")
    assert sag.competition == {"sag"} and oscar.competition == {"oscars"}
    assert (sag.award, oscar.award) == ("actor", "actress")
    assert parse("Will the Greens win the second most seats in the next German election?").rank == 2
    assert parse("Will Bloc Québécois get 2nd in the Canadian federal election?").rank == 2
    assert parse("Will the AfD party win the most seats in the 2025 German Bundestag election?").rank == 1
    assert parse("Will Kamala Harris or another Democrat win the Presidency?").disjunct
    assert parse("Will another party win the most seats in the next German election?").disjunct
    assert not parse("Will Kamala Harris win another state by the largest margin?").disjunct
    assert parse("Will the Greens win the most seats in the next Ontario election?").places == {"ontario"}
    assert parse("Will Karol Nawrocki be the next President of Poland?").subject == "karol nawrocki"
    assert parse("Wicked Rotten Tomatoes score?").subject != parse("The Witcher: Season 4 score?").subject


def test_synonyms_make_one_spelling() -> None:
    assert canon("Will Memphis win March Madness?") == canon("will memphis win ncaa tournament?")
    assert canon("the 2025 Polish presidential election") == "the 2025 poland presidential election"
    assert canon("polished") == "polished"  # whole words only
    assert canon("Will X win the Democratic Primary for NYC Mayorship?") == (
        "will x be the democratic nominee for new york city mayor?"
    )
    assert (
        parse("Will Donald Trump win 7 swing states?").tokens
        == parse("Will Trump win 7 swing states?").tokens
    )
