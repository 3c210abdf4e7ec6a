"""Dashboard entry point: page config and multipage navigation (run with ``oneprice dashboard``)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from oneprice.app import common
from oneprice.log import setup_logging

VIEWS = Path(__file__).parent / "views"

# (script, title, icon, url path); the first page is the default one.
PAGES: list[tuple[str, str, str, str]] = [
    ("overview.py", "Overview", ":material/dashboard:", "overview"),
    ("markets.py", "Markets", ":material/storefront:", "markets"),
    ("matches.py", "Matches", ":material/join_inner:", "matches"),
    ("opportunities.py", "Opportunities", ":material/trending_up:", "opportunities"),
    ("backtests.py", "Backtests", ":material/query_stats:", "backtests"),
    ("signals.py", "Signals", ":material/sentiment_satisfied:", "signals"),
]


@st.cache_resource
def _logging(level: str, json_lines: bool) -> bool:
    """The one logging setup, once per server process."""
    setup_logging(level, json_lines)
    return True


def main() -> None:
    settings = common.settings()
    _logging(settings.log_level, settings.log_json)
    st.set_page_config(page_title="oneprice", page_icon=":material/balance:", layout="wide")
    pages = [
        st.Page(VIEWS / script, title=title, icon=icon, url_path=path, default=i == 0)
        for i, (script, title, icon, path) in enumerate(PAGES)
    ]
    page = st.navigation(pages)
    if st.sidebar.button(
        "Refresh data", icon=":material/refresh:", help="Drop cached reads (listings keep 2 min)"
    ):
        common.clear_caches()
    page.run()


main()
