"""AppTest: the Backtests page runs a strategy through the service and compares stored runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from streamlit.testing.v1 import AppTest

from app.conftest import GROUP, copy_sqlite
from oneprice.services import backtest
from oneprice.services.container import build_services

pytestmark = [GROUP]


def test_run_a_strategy_then_compare_runs(
    filled_db: str, tmp_path: Path, use_db: Callable[[str], None], open_page: Callable[[str], AppTest]
) -> None:
    url = copy_sqlite(filled_db, tmp_path / "bt.sqlite")
    use_db(url)
    before = backtest.list_runs(build_services(db_url=url))
    assert len(before) == 2  # the fixture's runs
    at = open_page("backtests")
    assert not at.exception and not at.error
    assert list(at.dataframe[0].value["run"]) == [r.run_id for r in before]

    at.selectbox(key="bt_strategy").set_value("sma").run()
    at.number_input(key="bt_p_sma_fast").set_value(5)
    at.number_input(key="bt_p_sma_slow").set_value(30)
    at.button(key="FormSubmitter:bt_form-Run backtest").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    after = backtest.list_runs(build_services(db_url=url))
    assert len(after) == 3
    new = after[0]
    assert new.strategy == "sma" and new.params["fast"] == 5 and new.params["slow"] == 30
    assert any(f"Run #{new.run_id} finished" in s.value for s in at.success)
    assert at.multiselect(key="bt_view").value == [new.run_id]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Trades"] == f"{new.metrics['trade_count']:,}"
    assert len(at.get("plotly_chart")) == 3  # equity, drawdown, trades of the new run

    at.multiselect(key="bt_view").set_value([r.run_id for r in after[:2]]).run()
    assert not at.exception and not at.error
    assert len(at.get("plotly_chart")) == 1 + 2 * 3  # comparison plus each run's three charts
    table = next(d.value for d in at.dataframe if "metric" in d.value.columns)
    assert {f"run {after[0].run_id}", f"run {after[1].run_id}"} <= set(table.columns)


def test_bad_parameters_are_a_message(
    filled_db: str, use_db: Callable[[str], None], open_page: Callable[[str], AppTest]
) -> None:
    use_db(filled_db)
    at = open_page("backtests")
    at.selectbox(key="bt_strategy").set_value("sma").run()
    at.number_input(key="bt_p_sma_fast").set_value(60)  # fast above slow: rejected by the strategy
    at.number_input(key="bt_p_sma_slow").set_value(20)
    at.button(key="FormSubmitter:bt_form-Run backtest").click().run()
    assert not at.exception
    assert len(at.error) == 1 and at.error[0].value.startswith("Backtest failed:")


def test_empty_database_names_the_command(
    tmp_path: Path, use_db: Callable[[str], None], open_page: Callable[[str], AppTest]
) -> None:
    use_db(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    at = open_page("backtests")
    assert not at.exception and not at.error
    assert any("oneprice" in i.value and "run `" in i.value for i in at.info)
