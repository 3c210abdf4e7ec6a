from typer.testing import CliRunner

from oneprice.cli.main import COMMAND_MODULES, app


def test_every_command_module_registers_its_commands() -> None:
    out = CliRunner().invoke(app, ["--help"], terminal_width=200)
    assert out.exit_code == 0, out.output
    for name in ("db", "ingest", "align", "scan", "deviations", "backtest", "llm", "dashboard", "demo"):
        assert name in out.output, f"{name} missing from oneprice --help"
    assert len(COMMAND_MODULES) == 8


def test_db_upgrade_creates_the_schema(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'x.sqlite'}"
    out = CliRunner().invoke(app, ["--db", url, "db", "upgrade"])
    assert out.exit_code == 0, out.output
    assert (tmp_path / "x.sqlite").exists()
