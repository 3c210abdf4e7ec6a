"""A database filled once per session for the dashboard tests."""

from __future__ import annotations

import pytest

from oneprice.db import init_db


@pytest.fixture(scope="session")
def filled_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('appdb') / 'dash.sqlite'}"
    init_db(url).dispose()
    return url
