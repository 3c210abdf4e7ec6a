"""Shared checks of the reliability tests: one-line errors, exit code 2, an untouched database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, MetaData, select

from oneprice.cli.main import app


def run_cli(args: list[str], **env: str) -> Any:
    from typer.testing import CliRunner

    return CliRunner().invoke(app, args, env=env or None, catch_exceptions=False)


def assert_one_line_error(result: Any, *needles: str) -> str:
    """Exit code 2, no traceback, and exactly one line on stderr naming each of ``needles``."""
    err = result.stderr.strip()
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    assert len(err.splitlines()) == 1, err
    for n in needles:
        assert n in err, (n, err)
    return err


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to compare a database before and after a refused command."""
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        return {t.name: sorted(map(tuple, conn.execute(select(t))), key=repr) for t in meta.sorted_tables}
