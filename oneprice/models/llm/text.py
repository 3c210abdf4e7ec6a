"""Incremental detokenization with stop strings (text that may begin a stop string is held back)."""

from __future__ import annotations

from typing import Any


class StopChecker:
    def __init__(self, tokenizer: Any, stops: tuple[str, ...]) -> None:
        self.tok = tokenizer
        self.stops = tuple(s for s in stops if s)
        self.ids: list[int] = []
        self.emitted = 0  # characters of the decoded text already handed out
        self.text = ""

    def feed(self, new_ids: list[int], final: bool = False) -> tuple[str, bool]:
        """Add tokens; return (text safe to emit now, whether a stop string was hit)."""
        self.ids.extend(new_ids)
        self.text = self.tok.decode(self.ids, skip_special_tokens=True)
        for s in self.stops:
            at = self.text.find(s, max(0, self.emitted - len(s)))
            if at >= 0:
                self.text = self.text[:at]
                out = self.text[self.emitted :]
                self.emitted = len(self.text)
                return out, True
        end = len(self.text)
        if not final:
            if self.text.endswith("\ufffd"):  # an incomplete UTF-8 sequence
                end -= 1
            for s in self.stops:
                for n in range(min(len(s) - 1, end), 0, -1):
                    if self.text[:end].endswith(s[:n]):
                        end -= n
                        break
        out = self.text[self.emitted : max(end, self.emitted)]
        self.emitted = max(end, self.emitted)
        return out, False

    def flush(self) -> str:
        out = self.text[self.emitted :]
        self.emitted = len(self.text)
        return out
