from typer.testing import CliRunner

from oneprice.cli.main import COMMAND_MODULES, app


def test_every_command_module_registers_its_commands() -> None:
    out = CliRunner().invoke(app, ["--help"], terminal_width=200)
    assert out.exit_code == 0, out.output
    expected = {"db", "ingest", "align", "scan", "deviations", "backtest", "llm", "dashboard", "demo"}
    expected |= set(COMMAND_MODULES) - {"arbitrage"}  # the arbitrage module registers scan and deviations
    for name in sorted(expected):
        assert name in out.output, f"{name} missing from oneprice --help"


def test_db_upgrade_creates_the_schema(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'x.sqlite'}"
    out = CliRunner().invoke(app, ["--db", url, "db", "upgrade"])
    assert out.exit_code == 0, out.output
    assert (tmp_path / "x.sqlite").exists()
