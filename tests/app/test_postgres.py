"""The dashboard on PostgreSQL: the same snapshot pipeline, every page, confirm and reject."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, select
from streamlit.testing.v1 import AppTest

from app.conftest import GROUP, PAGES, fill
from oneprice.db import Match

pytestmark = [GROUP, pytest.mark.postgres, pytest.mark.slow]


def test_every_page_and_decisions_on_postgres(
    pg_engine: Engine, use_db: Callable[[str], None], open_page: Callable[[str], AppTest]
) -> None:
    url = pg_engine.url.render_as_string(hide_password=False)
    fill(url)
    use_db(url)
    for page in PAGES:
        at = open_page(page)
        assert not at.exception, (page, [e.value for e in at.exception])
        assert not at.error, (page, [e.value for e in at.error])
        assert not [i.value for i in at.info if "run `" in i.value], page

    at = open_page("matches")
    first = at.selectbox(key="mt_selected").value
    at.button(key="mt_confirm").click().run()
    second = at.selectbox(key="mt_selected").value
    at.button(key="mt_reject").click().run()
    assert not at.exception and not at.error
    with pg_engine.connect() as c:
        got = dict(c.execute(select(Match.id, Match.status).where(Match.id.in_([first, second]))).all())
    assert got == {first: "confirmed", second: "rejected"}
