"""The dashboard's shared helpers: formatting, display frames, URL masking, service lookup."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from oneprice.app import common


def test_formatting() -> None:
    assert common.fmt_pct(Decimal("0.0123")) == "1.23%"
    assert common.fmt_pct(None) == "–"
    assert common.fmt_prob("0.5") == "0.500"
    assert common.fmt_money(1234.5) == "$1,234.50"
    assert [common.fmt_age(s) for s in (5, 75, 3725, 2 * 86400)] == ["5s", "1m 15s", "1h 02m", "2.0d"]
    assert common.fmt_ts("2025-02-11T15:30:00+01:00") == "2025-02-11 14:30 UTC"
    assert common.fmt_ts(datetime(2025, 2, 11, 9, 5)) == "2025-02-11 09:05 UTC"
    age = common.age_s(datetime.now(UTC) - timedelta(seconds=90))
    assert age is not None and 89 <= age < 120


def test_frame_makes_service_rows_displayable() -> None:
    rows = [{"edge": Decimal("0.0125"), "legs": [{"venue": "kalshi"}], "map": {"Yes": "No"}, "x": 1}]
    df = common.frame(rows, ["edge", "map", "legs"])
    assert list(df.columns) == ["edge", "map", "legs"]
    assert df.iloc[0]["edge"] == 0.0125 and isinstance(df.iloc[0]["edge"], float)
    assert df.iloc[0]["map"] == "Yes: No"
    assert common.frame([]).empty


def test_passwords_are_masked() -> None:
    shown = common.safe_url("postgresql+psycopg://trader:s3cret@db.example:5432/oneprice")
    assert "s3cret" not in shown and "trader" in shown


def test_pages_import_service_functions_rather_than_name_them() -> None:
    """Each page imports the use cases it calls; none resolves a service from a string."""
    import ast
    from pathlib import Path

    views = Path(common.__file__).parent / "views"
    for page in sorted(views.glob("*.py")):
        tree = ast.parse(page.read_text())
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            f = call.func
            if isinstance(f, ast.Attribute) and f.attr in ("fetch", "act"):
                assert isinstance(call.args[1], ast.Attribute), f"{page.name}:{call.lineno} names a service"
        imported = [
            n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module == "oneprice.services"
        ]
        if "fetch(" in page.read_text():
            assert imported, page.name
