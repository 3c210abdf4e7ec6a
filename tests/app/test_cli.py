"""`oneprice dashboard`: the command line and the server command it runs."""

from __future__ import annotations

import shlex

import pytest
from typer.testing import CliRunner

from oneprice.app import common
from oneprice.cli.main import app
from oneprice.services import dashboard


def test_streamlit_command_is_headless_on_loopback() -> None:
    argv = dashboard.streamlit_command(8765)
    assert argv[1:4] == ["-m", "streamlit", "run"]
    assert argv[4].endswith("oneprice/app/main.py")
    opts = dict(zip(argv[5::2], argv[6::2], strict=True))
    assert opts["--server.headless"] == "true"
    assert opts["--server.address"] == "127.0.0.1"
    assert opts["--server.port"] == "8765"
    assert opts["--browser.gatherUsageStats"] == "false"


def test_db_option_becomes_the_environment() -> None:
    env = dashboard.dashboard_env("postgresql://u@127.0.0.1/x", base={"PATH": "/bin"})
    assert env == {"PATH": "/bin", "ONEPRICE_DB_URL": "postgresql://u@127.0.0.1/x"}
    assert "ONEPRICE_DB_URL" not in dashboard.dashboard_env(None, base={})


def test_cli_help_lists_port_and_db() -> None:
    res = CliRunner().invoke(app, ["dashboard", "--help"])
    assert res.exit_code == 0
    assert "--port" in res.output
    assert "--db" in CliRunner().invoke(app, ["--help"]).output  # one database option, on the root


@pytest.mark.parametrize("name", [n for n in dir(common) if n.startswith("CMD_")])
def test_empty_states_name_real_commands(name: str) -> None:
    """Every command an empty state tells the user to run parses with the real CLI."""
    cmd = shlex.split(getattr(common, name))
    assert cmd[0] == "oneprice"
    res = CliRunner().invoke(app, [*cmd[1:], "--help"])
    assert res.exit_code == 0, res.output
