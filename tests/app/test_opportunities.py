"""AppTest: the Opportunities page after two replay scans of the snapshot's matches."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from streamlit.testing.v1 import AppTest

from app.conftest import GROUP, copy_sqlite
from oneprice.app import common
from oneprice.services import arbitrage
from oneprice.services.container import build_services

pytestmark = [GROUP]


def test_opportunities_tables_and_deviation_history(
    filled_db: str, use_db: Callable[[str], None], open_page: Callable[[str], AppTest]
) -> None:
    use_db(filled_db)
    opps = arbitrage.latest_opportunities(build_services(db_url=filled_db))
    assert opps, "the replay scans evaluated no pair"
    at = open_page("opportunities")
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    headers = [h.value for h in at.subheader]
    assert headers[:2] == ["Equivalence edges", "No-arbitrage bound violations"]
    shown: set[int] = set()
    for frame in at.dataframe:
        if "match_id" in frame.value.columns:
            shown |= {int(i) for i in frame.value["match_id"]}
    assert shown == {int(o.match_id) for o in opps}  # every evaluated pair, executable or excluded
    executable = [o for o in opps if o.is_opportunity]
    for o in executable:
        assert any(
            "edge" in f.value.columns
            and "annualized" in f.value.columns
            and o.match_id in set(f.value["match_id"])
            for f in at.dataframe
        )
    runs = arbitrage.list_scan_runs(build_services(db_url=filled_db), limit=1)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Opportunities"] == str(runs[0].opportunities)

    charted = [
        o.match_id for o in opps if arbitrage.deviation_history(build_services(db_url=filled_db), o.match_id)
    ]
    assert charted, "no pair has a deviation history"
    at.selectbox(key="op_pair").set_value(charted[-1]).run()
    assert not at.exception
    assert (
        len(arbitrage.deviation_history(build_services(db_url=filled_db), charted[-1])) == 2
    )  # one point per scan
    assert len(at.get("plotly_chart")) == 1
    assert any("2 observation(s)" in c.value for c in at.caption)


def test_empty_database_names_the_scan_command(
    tmp_path, use_db: Callable[[str], None], open_page: Callable[[str], AppTest]
) -> None:
    use_db(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    at = open_page("opportunities")
    assert not at.exception and not at.error
    assert any(f"run `{common.CMD_SCAN}`" in i.value for i in at.info)


def test_scan_now_runs_a_replay_scan(
    filled_db: str, tmp_path: Path, use_db: Callable[[str], None], open_page: Callable[[str], AppTest]
) -> None:
    url = copy_sqlite(filled_db, tmp_path / "scan.sqlite")
    use_db(url)
    before = arbitrage.list_scan_runs(build_services(db_url=url), limit=50)
    at = open_page("opportunities")
    at.radio(key="op_scan_source").set_value("replay")
    at.button(key="op_scan").click().run()
    assert not at.exception and not at.error
    after = arbitrage.list_scan_runs(build_services(db_url=url), limit=50)
    assert len(after) == len(before) + 1 and after[0].source == "replay"
    assert any(f"Scan run {after[0].id}:" in s.value for s in at.success)
