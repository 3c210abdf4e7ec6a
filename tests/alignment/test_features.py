"""Pair features and facet reports: symmetry, thresholds, polarity."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from oneprice.alignment.contract import _ticker_date, parse
from oneprice.alignment.features import (
    FACET_FEATURES,
    FEATURES,
    HARD_CONFLICTS,
    SOFT_FACETS,
    facet_report,
    pair_features,
    polarity_flip,
)
from oneprice.alignment.reader import READER_FEATURES, pair_reading

DIRECTIONAL = {"deadline_diff"}
MIRRORED = {
    ("int_a_in_b", "int_b_in_a"),
    ("ent_a_in_b", "ent_b_in_a"),
    ("tok_only_a", "tok_only_b"),
    ("num_only_a", "num_only_b"),
    ("rank_only_a", "rank_only_b"),
    ("tok_a_cov_b", "tok_b_cov_a"),
    ("rules_a", "rules_b"),
    ("deadline_only_a", "deadline_only_b"),
}


def test_feature_names_are_stable() -> None:
    assert list(pair_features(parse("a"), parse("b"), 0.1)) == list(FACET_FEATURES)
    assert FEATURES == FACET_FEATURES + READER_FEATURES  # the reader's columns come last


def test_reader_mirrors_when_a_and_b_swap() -> None:
    rng = np.random.default_rng(0)
    a, b = (rng.normal(size=(n, 8)) for n in (3, 5))
    a, b = (x / np.linalg.norm(x, axis=1, keepdims=True) for x in (a, b))
    fab = dict(zip(READER_FEATURES, pair_reading(a, b), strict=True))
    fba = dict(zip(READER_FEATURES, pair_reading(b, a), strict=True))
    assert fab["read_doc_cos"] == pytest.approx(fba["read_doc_cos"])
    for x, y in (("read_min_ab", "read_min_ba"), ("read_mean_ab", "read_mean_ba"), ("read_q_ab", "read_q_ba"),
                 ("read_n_a", "read_n_b")):  # fmt: skip
        assert fab[x] == pytest.approx(fba[y])


def test_bucket_inside_threshold_means_containment() -> None:
    a = parse("Will the US add 200-250k jobs in October 2024?")
    b = parse("Will above 150000 jobs be added in October 2024?")
    f = pair_features(a, b, 0.8)
    assert f["int_a_in_b"] == 1.0 and f["int_b_in_a"] == 0.0 and f["month_same"] == 1.0


def test_adjacent_buckets_are_disjoint() -> None:
    a = parse("Will the SPD win 25-30% of the vote in the German election?")
    b = parse("Will the SPD win 20-24.9% of the vote in the German election?")
    assert pair_features(a, b, 0.9)["int_disjoint"] == 1.0


def test_look_alikes_conflict_on_a_hard_facet() -> None:
    """The audited look-alikes: each pair differs in one facet that rules out "same proposition"."""
    cases = [
        (
            "rank_conflict",
            (
                "Will the AfD party win the most seats in the 2025 German Bundestag election?",
                "Will AfD win the second most seats in the next German election?",
            ),
        ),
        (
            "competition_conflict",
            (
                "Will Manchester City win the Champions League?",
                "Will Manchester City win the UEFA Europa League?",
            ),
        ),
        (
            "award_conflict",
            (
                "Will Conclave win Best Production Design at the Oscars?",
                'Will "Conclave" win Best Picture at the 2025 Oscars?',
            ),
        ),
        (
            "disj_conflict",
            (
                "Will Kamala Harris or another Democrat win the Presidency?",
                "Will Kamala Harris win the 2024 US Presidential Election?",
            ),
        ),
        (
            "disj_conflict",
            (
                "Will Trump impose tariffs on the any country sector in the first 100 days?",
                "Will Trump impose tariffs on Brazil in the first 100 days?",
            ),
        ),
        (
            "stage_conflict",
            (
                "Will the Sacramento Kings win the NBA Western Conference Finals?",
                "Will the Sacramento Kings win the 2025 NBA Finals?",
            ),
        ),
        (
            "window_day_conflict",
            (
                "Will the AP call the election by November 12?",
                "Will the AP call the election on Nov 12, 2024?",
            ),
        ),
        (
            "school_conflict",
            (
                "Will the Michigan win the March Madness?",
                "Will Michigan State win the 2025 NCAA Tournament?",
            ),
        ),
        (
            "place_conflict",
            (
                "Will the Greens win the most seats in the next Norwegian parliamentary election?",
                "Will the Greens win the most seats in the next Ontario Parliamentary election?",
            ),
        ),
    ]
    cases += [
        (
            "subject_conflict",
            (
                "Will Andrea González Náder win the 2025 Ecuadorian presidential election?",
                "Will Luisa González win the 2025 Ecuadorian Presidential Election?",
            ),
        ),
        (
            "subject_conflict",
            (
                "Will Tie win Best Adapted Screenplay at the Oscars?",
                'Will "Nickel Boys" win Best Adapted Screenplay at the 2025 Oscars?',
            ),
        ),
        (
            "stage_conflict",
            (
                "Will the Brooklyn Nets win the NBA Eastern Conference Championship?",
                "Will the Brooklyn Nets win the 2025 NBA Finals?",
            ),
        ),
        (
            "core_conflict",
            (
                "Will core inflation rise more than 0.3% in January?",
                "Will monthly inflation increase by 0.3% in January?",
            ),
        ),
        (
            "honour_missing",
            (
                "Will Kamala Harris win the 2024 US Presidential Election?",
                "Will Kamala Harris be Time Person of the Year in 2024?",
            ),
        ),
        (
            "nomination_missing",
            (
                "Will Trump formally nominate Matt Gaetz for Attorney General?",
                "Will Matt Gaetz be Trump's Attorney General?",
            ),
        ),
        (
            "dir_one_sided",
            ("Will 8+ Fed rate cuts happen in 2025?", "Will the Fed cut rates 8 times?"),
        ),
        (
            "superlative_conflict",
            (
                "Will Alaska move right in the 2024 U.S. Presidential Election?",
                "Will Alaska be the closest state in the Presidential election?",
            ),
        ),
        (
            "superlative_conflict",
            (
                "Will Colorado be the last state to be called by the AP?",
                "Will Colorado be the closest state in the Presidential election?",
            ),
        ),
        (
            "subject_conflict",
            ("Will AC Milan win the Champions League?", "Will Inter Milan win the UEFA Champions League?"),
        ),
        (
            "stage_one_sided",
            (
                "Will Crin Antonescu win the 2024 Romanian presidential election?",
                "Will Crin Antonescu win the most votes in the 1st round of the Romanian election?",
            ),
        ),
        (
            "threshold_one_sided",
            ("Bird flu pandemic in 2024?", "Will there be more than 1000 bird flu cases in 2024?"),
        ),
        (
            "month_one_sided",
            ("Will CPI rise more than 3% in February 2025?", "Will inflation reach more than 3% in 2025?"),
        ),
        (
            "subject_conflict",  # the objects differ: a vote on one nominee is not a vote on another
            (
                "Will Lisa Murkowski vote for Robert F. Kennedy Jr.?",
                "Will Lisa Murkowski vote to confirm Tulsi Gabbard as Director of National Intelligence?",
            ),
        ),
        (
            "exit_one_sided",
            (
                "Will Olaf Scholz leave office next in this set?",
                "Will Olaf Scholz be the next Chancellor of Germany?",
            ),
        ),
        (
            "event_conflict",
            (
                "Will Călin Georgescu be banned from the Romanian presidential election?",
                "Will Călin Georgescu win the Romanian presidential election?",
            ),
        ),
        (
            "extend_one_sided",
            (
                "Will the Trump tax cut on the highest earners be extended before 2026?",
                "Will Trump cut taxes on high earners in 2025?",
            ),
        ),
        ("qualifier_one_sided", ("Fed emergency rate cut in 2025?", "Fed rate cut in 2025?")),
        (
            "school_conflict",
            ("Will the Texas A&M win the March Madness?", "Will Texas win the 2025 NCAA Tournament?"),
        ),
        (
            "qualifier_one_sided",
            ("Will Trump propose reducing military spending?", "Will Trump cut military spending?"),
        ),
        (
            "place_one_sided",
            (
                "Will Conservatives get 2nd in the Canadian federal election?",
                "Conservatives win majority in Canadian election?",
            ),
        ),
        (
            "first_window_conflict",
            (
                "Will Trump deport 1M people in his first year?",
                "Will Trump deport 1M people in the first 6 months?",
            ),
        ),
        (
            "place_conflict",
            (
                "Will Conservative win the next U.K. election?",
                "Will the Conservative Party win the most seats in the next Canadian election?",
            ),
        ),
    ]
    for facet, (qa, qb) in cases:
        f = pair_features(parse(qa), parse(qb), 0.9)
        assert f[facet] == 1.0, (facet, qa, qb)
        assert facet in HARD_CONFLICTS or facet in SOFT_FACETS  # a veto, or a feature the model weighs
    same = pair_features(
        parse("Will Karol Nawrocki win the 2025 Polish presidential election?"),
        parse("Will Karol Nawrocki be the next President of Poland?"),
        0.9,
    )
    assert not any(same[h] for h in HARD_CONFLICTS) and same["subject_sim"] == 1.0
    typo = pair_features(
        parse("Will the Washington Capitols win the Stanley Cup Finals?"),
        parse("Will the Washington Capitals win the 2025 Stanley Cup?"),
        0.9,
    )
    assert not typo["subject_conflict"]
    report = facet_report(
        parse("Will the AfD party win the most seats in the 2025 German Bundestag election?"),
        parse("Will AfD win the second most seats in the next German election?"),
    )
    assert report["rank"] == {"status": "conflict", "a": ["1"], "b": ["2"]}


def test_fine_print_that_keeps_the_same_contract() -> None:
    """The new facets leave true equivalents alone: initials, "nominee" against "primary", award shows
    a title leaves implicit, above/below of one threshold (an inverse pair, not disjoint buckets)."""
    pairs = [
        (
            "Will every Republican Senator vote for Robert F. Kennedy Jr.?",
            "Will every Republican Senator vote to confirm RFK Jr?",
        ),
        (
            "Will Brad Lander be the nominee for the NYC Mayorship for the Democratic party in 2025?",
            "Will Brad Lander win the Democratic Primary for Mayor of New York City?",
        ),
        ("Will Brat win Album of the Year at the Grammys?", "Will 'BRAT' win Album of the Year?"),
        ("Will Arsenal win the Premier League?", "Will Arsenal win the 2024-25 Premier League title?"),
        ("Will GTA 6 be released by Dec 31, 2025?", "Will GTA 6 be released in 2025?"),
        (
            "Will J.D. Vance win the 2028 US Presidential Election?",
            "Will JD Vance win the 2028 US presidential election?",
        ),
        # complementary sides of one threshold ("above" and "below" both would leave $100,000 out)
        ("Will Bitcoin be above $100,000 on Dec 31?", "Will Bitcoin be $100,000 or below on Dec 31?"),
        (
            "Will Wisconsin be the closest state?",
            "Will Wisconsin be the closest state in the Presidential election?",
        ),
        ("Sundar Pichai out as Google CEO in 2024?", "Sundar Pichai leaves Google in 2024?"),
        ("Will GTA 6 be released by Dec 31, 2025?", "GTA VI released in 2025?"),
        ("Will the Kansas City Chiefs win the Super Bowl?", "Will Kansas City win the Super Bowl?"),
        ("Will Trump deport 1M people in his first year?", "Will Trump deport 1M people in 2025?"),
    ]
    for qa, qb in pairs:
        f = pair_features(parse(qa), parse(qb), 0.9)
        assert not [h for h in HARD_CONFLICTS if f[h]], (qa, qb)


def test_a_generic_title_takes_its_bucket_from_the_rules() -> None:
    """Kalshi's "What share of the vote will the SPD get?" names its bucket only in the rules; the
    bucket next to it on another venue shares an edge and no value."""
    kalshi = parse(
        "What share of the vote will the SPD get in the German election?",
        "If SPD receives 25% to 30% share of the vote in the 2025 federal German election, then the market "
        "resolves to Yes.",
    )
    assert (kalshi.direction, kalshi.lo, kalshi.hi, kalshi.unit) == ("range", 25.0, 30.0, "%")
    poly = parse("Will the SPD win 20-25% of the vote in the German election?")
    assert pair_features(kalshi, poly, 0.9)["int_disjoint"] == 1.0
    same = parse("Will the SPD win 25-30% of the vote in the German election?")
    assert pair_features(kalshi, same, 0.9)["int_disjoint"] == 0.0
    # a title that states its proposition keeps its own numbers (none): the rules' are its resolution data
    stated = parse("Will 2025 be the hottest year on record?", "If the index for 2025 is above 1.17, then...")
    assert stated.numbers == () and stated.direction == ""


def test_rules_year_end_is_a_coarse_deadline() -> None:
    """ "before 2026" in Kalshi rules ends the window at the year's end: a market closing at an October
    election is another window; one closing at the year's last FOMC meeting, three weeks early, is not."""
    kalshi_close = datetime(2026, 1, 1, tzinfo=UTC)
    pm = parse(
        "Will Mark Carney be the next Prime Minister of Canada?",
        "If Mark Carney is the next Prime Minister of Canada before 2026, then the market resolves to Yes.",
        kalshi_close,
        "kalshi",
    )
    poly_pm = parse(
        "Will Mark Carney be the next Canadian Prime Minister?",
        "",
        datetime(2025, 10, 20, tzinfo=UTC),
        "polymarket",
    )
    assert pair_features(pm, poly_pm, 0.9)["eff_deadline_conflict"] == 1.0
    fed = parse(
        "Will the Fed cut rates 7 times?",
        "If the Fed cuts 7 times before 2026, the market resolves to Yes.",
        kalshi_close,
        "kalshi",
    )
    poly_fed = parse(
        "Will 7 Fed rate cuts happen in 2025?", "", datetime(2025, 12, 10, tzinfo=UTC), "polymarket"
    )
    assert pair_features(fed, poly_fed, 0.9)["eff_deadline_conflict"] == 0.0


def test_a_kalshi_ticker_date_ends_a_window_the_title_leaves_open() -> None:
    """ "KXTARIFFCOUNTRY-26JAN01-PRC" runs to January 1, 2026 whatever its "first 100 days" title says; a
    ticker date is coarse (a month's slack), like a year's end in the rules."""
    kalshi_close = datetime(2026, 1, 1, tzinfo=UTC)
    kalshi = parse(
        "Will Trump impose tariffs on the China sector in the first 100 days?",
        "",
        kalshi_close,
        "kalshi",
        "KXTARIFFCOUNTRY-26JAN01-PRC",
    )
    assert kalshi.ticker_date == date(2026, 1, 1)
    poly = parse(
        "Will Trump impose tariffs on China in the first 100 days?",
        "... on the listed country by April 29, 2025, 11:59 PM ET.",
        datetime(2025, 4, 29, tzinfo=UTC),
        "polymarket",
    )
    assert pair_features(kalshi, poly, 0.9)["eff_deadline_conflict"] == 1.0
    assert _ticker_date("kalshi", "KXBTCMAX150-25-JAN31-149999.99") == date(2025, 1, 31)
    assert _ticker_date("kalshi", "FEDDECISION-24NOV-H25") is None
    assert _ticker_date("polymarket", "X-26JAN01") is None
    any_country = parse(
        "Will Trump impose tariffs on the any country sector in the first 100 days?",
        "",
        datetime(2025, 3, 1, tzinfo=UTC),
        "kalshi",
        "KXTARIFFSC-25MAR01",
    )
    before_march = parse(
        "Will Trump impose tariffs on any country before March?",
        "",
        datetime(2025, 2, 28, tzinfo=UTC),
        "polymarket",
    )
    assert pair_features(any_country, before_march, 0.9)["eff_deadline_conflict"] == 0.0


def test_rules_where_an_announcement_counts_are_wider() -> None:
    kalshi = parse(
        "Sundar Pichai leaves Google in 2025?",
        "If Sundar Pichai is no longer CEO of Google by Dec 31, 2025, then the market resolves to Yes.",
    )
    poly = parse(
        "Sundar Pichai out as Google CEO in 2025?",
        'This market will resolve to "Yes" if Sundar Pichai is no longer serving as CEO of Google ... An'
        " announcement of Sundar Pichai's resignation/firing before this market's end date will immediately"
        ' resolve this market to "Yes", regardless of when the resignation takes effect.',
    )
    assert pair_features(kalshi, poly, 0.9)["announce_one_sided"] == 1.0
    assert "announce_one_sided" in SOFT_FACETS
    told = parse(kalshi.question, kalshi.rules + " An announced resignation does not count.")
    assert pair_features(told, poly, 0.9)["announce_one_sided"] == 0.0


def test_a_pair_of_people_in_the_rules_is_not_either_of_them() -> None:
    top_two = parse(
        "Who will win the first round of the Romanian presidential election?",
        "If Călin Georgescu and Marcel Ciolacu win the first round of the Romanian presidential election,"
        " then the market resolves to Yes.",
    )
    assert top_two.rules_joint
    one = parse(
        "Will Marcel Ciolacu win the most votes in the 1st round of the Romanian presidential election?"
    )
    assert pair_features(top_two, one, 0.9)["joint_one_sided"] == 1.0
    coalition = parse(
        "Who will form the next government?", "If CDU/CSU and SPD form the government, then ..."
    )
    assert not coalition.rules_joint  # parties, not two people


def test_a_term_in_the_rules_is_a_coarse_deadline() -> None:
    term = parse(
        "Will President Trump resign before his term is up?",
        "If the President of the United States elected for the 2025-2029 term resigns the office, then...",
        datetime(2029, 1, 21, tzinfo=UTC),
        "kalshi",
    )
    assert term.rules_year_end == date(2028, 12, 31)
    in_2025 = parse("Will Trump resign in 2025?", "", datetime(2025, 12, 31, tzinfo=UTC), "polymarket")
    assert pair_features(term, in_2025, 0.9)["eff_deadline_conflict"] == 1.0


def test_rules_with_a_second_way_to_yes_are_wider() -> None:
    kalshi = parse(
        "Will a no-confidence motion pass against Trudeau before Apr 2025?",
        "If there is a successful vote of no confidence in the Prime Minister of Canada, or he resigns, "
        "before Apr 1, 2025, then the market resolves to Yes.",
    )
    poly = parse("Trudeau no confidence motion passes before April?", "A motion of no confidence passes.")
    assert pair_features(kalshi, poly, 0.9)["extra_path"] == 1.0
    said = parse("Trudeau no confidence motion passes or he resigns before April?", "")
    assert pair_features(kalshi, said, 0.9)["extra_path"] == 0.0


def test_rules_subject_stands_in_for_a_generic_title() -> None:
    kalshi = parse(
        "2025 BAFTA for Best Film?", "If  Anora has won Best Film at the 78th BAFTA Awards, then..."
    )
    assert kalshi.rules_subject == "anora"
    rules = "This market will resolve according to the film which wins the BAFTA for Best Film."
    other = parse('Will "Conclave" win Best Film at the 2025 BAFTA Awards?', rules)
    same = parse('Will "Anora" win Best Film at the 2025 BAFTA Awards?', rules)
    assert pair_features(kalshi, other, 0.8)["subject_conflict"] == 1.0
    assert pair_features(kalshi, same, 0.8)["subject_conflict"] == 0.0
    # a name the question already carries is not a rules subject
    assert parse("Will Mark Carney be PM?", "If Mark Carney is the next PM, then...").rules_subject == ""


def test_one_venue_relisting_a_proposition_is_another_window() -> None:
    q = "How many corporate bankruptcies will there be in month?"
    nov, dec = datetime(2024, 12, 10, tzinfo=UTC), datetime(2025, 1, 10, tzinfo=UTC)
    relisted = pair_features(parse(q, close=nov, venue="kalshi"), parse(q, close=dec, venue="kalshi"), 1.0)
    assert relisted["relist_conflict"] == 1.0 and "relist_conflict" in HARD_CONFLICTS
    # across venues close times follow each venue's conventions: no conflict from them alone
    across = pair_features(parse(q, close=nov, venue="kalshi"), parse(q, close=dec, venue="polymarket"), 1.0)
    assert across["relist_conflict"] == 0.0


def test_different_months_conflict() -> None:
    a = parse("Will gas CPI rise more than -2% in November 2024?")
    b = parse("Will gas CPI rise more than -2% in October 2024?")
    f = pair_features(a, b, 0.95)
    assert f["month_conflict"] == 1.0 and f["num_jacc"] == 1.0
    assert facet_report(a, b)["months"]["status"] == "conflict"


def test_polarity_flip_from_negation_and_complementary_thresholds() -> None:
    assert polarity_flip(
        parse("Will Bitcoin be above $100,000 on March 1?"),
        parse("Will Bitcoin be below $100,000 on March 1?"),
    )
    assert polarity_flip(parse("Will X happen by June?"), parse("Will X not happen by June?"))
    assert not polarity_flip(parse("Will BTC be above $90,000?"), parse("Will BTC be below $80,000?"))
    report = facet_report(parse("Will X happen?"), parse("Will X not happen?"))
    assert report["polarity"]["status"] == "flipped"


QUESTIONS = [
    "Will the US add 200-250k jobs in October 2024?",
    "Will above 150000 jobs be added in October 2024?",
    "Will Trump impose tariffs on Mexico before March?",
    "Will Trump impose new tariffs on Mexico before 2026?",
    "Will the Los Angeles Kings win the 2025 Stanley Cup?",
    "Will the SPD win 20-25% of the vote?",
    "Will Bitcoin reach $100,000 in 2025?",
    "Will Ethereum dip to $2000 by February 28 2025?",
]


@given(st.sampled_from(QUESTIONS), st.sampled_from(QUESTIONS), st.floats(-1, 1))
def test_swapping_a_and_b_mirrors_directional_features(qa: str, qb: str, cos: float) -> None:
    a, b = parse(qa), parse(qb)
    fab, fba = pair_features(a, b, cos), pair_features(b, a, cos)
    pairs = {x for p in MIRRORED for x in p}
    for k in FACET_FEATURES:
        if k in DIRECTIONAL:
            assert fab[k] == -fba[k]
        elif k not in pairs:
            assert fab[k] == fba[k], k
    for x, y in MIRRORED:
        assert fab[x] == fba[y]


def test_rules_only_view_blanks_the_readers_columns_only() -> None:
    from oneprice.alignment.evaluate import _READER_COLS, _rules_only

    x = np.arange(2 * len(FEATURES), dtype=float).reshape(2, -1) + 1.0
    x[1, _READER_COLS] = -1.0  # a pair a hard facet left unread keeps its -1
    out = _rules_only(x)
    assert (out[0, _READER_COLS] == 0.0).all() and (out[1, _READER_COLS] == -1.0).all()
    others = [k for k in range(len(FEATURES)) if k not in _READER_COLS]
    assert (out[:, others] == x[:, others]).all() and (x[0, _READER_COLS] != 0).all()  # input untouched
