"""AppTest: the Matches page on the snapshot database; confirm and reject reach the database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from app.conftest import GROUP, copy_sqlite
from oneprice.db import Match, open_db
from oneprice.services import alignment
from oneprice.services.container import build_services

pytestmark = [GROUP]


def _clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_matches_page_shows_relation_facets_and_both_rules(
    filled_db: str, use_db: Callable[[str], None], open_page: Callable[[str], AppTest]
) -> None:
    use_db(filled_db)
    proposed = alignment.list_matches(build_services(db_url=filled_db), status="proposed", limit=500)
    assert proposed, "no proposed match in the fixture database"
    at = open_page("matches")
    _clean(at)
    table = at.dataframe[0].value
    assert list(table["id"]) == [m.id for m in proposed]
    m = proposed[0]
    assert at.selectbox(key="mt_selected").value == m.id
    metrics = {x.label: x.value for x in at.metric}
    assert metrics["Relation"] == m.relation
    assert metrics["Confidence"] == f"{float(m.confidence):.2f}"
    rules = [mk.rules or "(no rules text)" for mk in (m.market_a, m.market_b)]
    assert [t.value.strip() for t in at.text] == [r.strip() for r in rules]  # A's rules beside B's
    if m.explanation:
        facets = next(d.value for d in at.dataframe if list(d.value.columns) == ["facet", "value"])
        assert set(facets["facet"]) == set(m.explanation)

    at.slider(key="mt_min_conf").set_value(0.95).run()
    _clean(at)
    strong = alignment.list_matches(
        build_services(db_url=filled_db), status="proposed", min_confidence=0.95, limit=500
    )
    if strong:
        assert list(at.dataframe[0].value["id"]) == [x.id for x in strong]
    else:
        assert any("No match passes" in i.value for i in at.info)


def _row(url: str, match_id: int) -> Match:
    with open_db(url).connect() as c:
        return c.execute(select(Match).where(Match.id == match_id)).one()


def test_confirm_and_reject_persist(
    filled_db: str, tmp_path: Path, use_db: Callable[[str], None], open_page: Callable[[str], AppTest]
) -> None:
    url = copy_sqlite(filled_db, tmp_path / "decide.sqlite")
    use_db(url)
    at = open_page("matches")
    _clean(at)
    first = at.selectbox(key="mt_selected").value
    at.button(key="mt_confirm").click().run()
    _clean(at)
    assert any(f"Match #{first} confirmed" in s.value for s in at.success)
    row = _row(url, first)
    assert (row.status, row.decided_by) == ("confirmed", "dashboard") and row.decided_at is not None
    assert first not in list(at.dataframe[0].value["id"])  # left the proposed queue

    second = at.selectbox(key="mt_selected").value
    assert second != first
    at.button(key="mt_reject").click().run()
    _clean(at)
    row = _row(url, second)
    assert (row.status, row.decided_by) == ("rejected", "dashboard")

    # the decisions are training labels for the alignment model now
    reviews = [p for p in alignment.training_pairs(build_services(db_url=url))[0] if p.source == "review"]
    assert {(p.key, p.relation) for p in reviews} == {
        (f"db:{first}", _row(url, first).relation),
        (f"db:{second}", "overlapping"),
    }

    at.selectbox(key="mt_status").set_value("confirmed").run()
    assert first in list(at.dataframe[0].value["id"])
    at.selectbox(key="mt_status").set_value("rejected").run()
    assert second in list(at.dataframe[0].value["id"])


def test_a_failing_decision_is_a_message_not_a_traceback(
    filled_db: str,
    tmp_path: Path,
    use_db: Callable[[str], None],
    open_page: Callable[[str], AppTest],
    monkeypatch,
) -> None:
    url = copy_sqlite(filled_db, tmp_path / "fail.sqlite")
    use_db(url)

    def broken(*_a: object, **_kw: object) -> None:
        raise RuntimeError("database is read-only")

    monkeypatch.setattr(alignment, "decide_match", broken)
    at = open_page("matches")
    first = at.selectbox(key="mt_selected").value
    at.button(key="mt_confirm").click().run()
    assert not at.exception
    assert any("Saving the decision failed: RuntimeError: database is read-only" in e.value for e in at.error)
    assert _row(url, first).status == "proposed"
