"""Agents fixtures: six real QuantAgent windows and a scripted ChatBackend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from oneprice.agents.window import Window, read_window
from oneprice.models.llm.backends import ChatResult, Messages
from oneprice.models.llm.sampling import SamplingParams

DIR = Path(__file__).parents[1] / "fixtures" / "agents"


class ScriptedBackend:
    """Answers each chat with the next scripted reply (an Exception is raised); records the prompts."""

    def __init__(self, replies: list[str | Exception]) -> None:
        self.replies = list(replies)
        self.seen: list[tuple[Messages, SamplingParams]] = []

    def chat(self, messages: Messages, params: SamplingParams) -> ChatResult:
        self.seen.append((messages, params))
        r = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(r, Exception):
            raise r
        return ChatResult(r, "stop", 10, 5)

    def stream(self, messages: Messages, params: SamplingParams) -> Iterator[str]:
        yield self.chat(messages, params).text


def good(decision: str = "LONG", justification: str = "RSI14 up, double bottom") -> str:
    return (
        f'{{"decision": "{decision}", "confidence": 0.7, "horizon_bars": 1, '
        f'"justification": "{justification}"}}'
    )


@pytest.fixture
def windows_dir() -> Path:
    return DIR / "windows"


@pytest.fixture
def manifest() -> Path:
    return DIR / "manifest.csv"


@pytest.fixture
def windows() -> list[Window]:
    return [
        read_window(p, p.stem.split("_")[0], p.stem.split("_")[1])
        for p in sorted((DIR / "windows").glob("*.csv"))
    ]
