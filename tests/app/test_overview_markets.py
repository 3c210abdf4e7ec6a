"""AppTest: Overview and Markets pages on the snapshot database."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from app.conftest import GROUP
from oneprice.app import common
from oneprice.db import Market, Match, QuoteRow, open_db

pytestmark = [GROUP]


def _clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_overview_shows_venues_counts_and_runs(
    filled_db: str, use_db: Callable[[str], None], open_page: Callable[[str], AppTest]
) -> None:
    use_db(filled_db)
    at = open_page("overview")
    _clean(at)
    with open_db(filled_db).connect() as c:
        total = c.scalar(select(func.count()).select_from(Market))
        kalshi = c.scalar(select(func.count()).select_from(Market).where(Market.venue == "kalshi"))
        proposed = c.scalar(select(func.count()).select_from(Match).where(Match.status == "proposed"))
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Markets"] == f"{total:,}"
    assert metrics["kalshi"] == f"{kalshi:,}"
    assert metrics["Proposed"] == f"{proposed:,}" and proposed > 0
    venues = at.dataframe[0].value
    assert {"kalshi", "polymarket"} <= set(venues["name"])
    runs = next(d.value for d in at.dataframe if "source" in d.value.columns and "fetched" in d.value.columns)
    assert runs.iloc[0]["source"] == "replay" and runs.iloc[0]["status"] == "ok"
    assert not [i.value for i in at.info if "No markets yet" in i.value]
    at.sidebar.button[0].click().run()  # "Refresh data" drops cached reads and redraws
    _clean(at)
    assert {m.label: m.value for m in at.metric}["Markets"] == f"{total:,}"


def test_markets_search_filter_and_detail(
    filled_db: str, use_db: Callable[[str], None], open_page: Callable[[str], AppTest]
) -> None:
    use_db(filled_db)
    at = open_page("markets")
    _clean(at)
    assert len(at.dataframe[0].value) == 200  # first page of 10k+ markets

    at.text_input(key="mk_query").set_value("bitcoin").run()
    _clean(at)
    found = at.dataframe[0].value
    assert len(found) > 0
    assert all(
        "bitcoin" in q.lower() or "bitcoin" in e.lower()
        for q, e in zip(found.question, found.external_id, strict=True)
    )

    at.multiselect(key="mk_venues").set_value(["polymarket"]).run()
    assert set(at.dataframe[0].value.venue) == {"polymarket"}

    # a market with recorded quotes: found by its id, then its rules, price history and book
    with open_db(filled_db).connect() as c:
        mid, ext, rules = c.execute(
            select(Market.id, Market.external_id, Market.rules)
            .join(QuoteRow, QuoteRow.market_id == Market.id)
            .where(Market.venue == "kalshi", Market.rules != "")
            .limit(1)
        ).one()
    at.multiselect(key="mk_venues").set_value([]).run()
    at.text_input(key="mk_query").set_value(ext).run()
    at.selectbox(key="mk_detail").set_value(mid).run()
    _clean(at)
    assert any(t.value == rules for t in at.text), "rules text of the selected market"
    assert len(at.get("plotly_chart")) == 1, "price history chart"
    book_tables = [d.value for d in at.dataframe if "bid" in d.value.columns and "ask" in d.value.columns]
    assert len(book_tables) == 2 and all(len(b) >= 1 for b in book_tables), "order book per outcome"
    headings = [
        md.value.split(" · ")[0] for md in at.markdown if " · " in md.value and md.value.startswith("**")
    ]
    assert headings[-2:] == ["**Yes**", "**No**"]


@pytest.mark.parametrize("page", ["overview", "markets"])
def test_empty_database_names_the_command(
    page: str, tmp_path, use_db: Callable[[str], None], open_page: Callable[[str], AppTest]
) -> None:
    use_db(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    at = open_page(page)
    _clean(at)
    assert any(f"run `{common.CMD_INGEST}`" in i.value for i in at.info)


def test_a_failing_service_is_a_message_not_a_traceback(
    filled_db: str, use_db: Callable[[str], None], open_page: Callable[[str], AppTest], monkeypatch
) -> None:
    from oneprice.services import ingest

    def broken(*_a: object, **_kw: object) -> None:
        raise RuntimeError("connection reset")

    monkeypatch.setattr(ingest, "search_markets", broken)
    use_db(filled_db)
    at = open_page("markets")
    assert not at.exception
    assert [e.value for e in at.error] == ["Market search failed: RuntimeError: connection reset"]


def test_unreachable_database_is_a_message(
    use_db: Callable[[str], None], open_page: Callable[[str], AppTest]
) -> None:
    use_db("postgresql+psycopg://nobody@127.0.0.1:9/none")
    at = open_page("overview")
    assert not at.exception
    assert len(at.error) == 1 and at.error[0].value.startswith("Cannot open the database")
