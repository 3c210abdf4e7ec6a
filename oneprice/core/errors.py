"""Error taxonomy. Transient errors may succeed on retry; permanent ones never will."""

from __future__ import annotations


class OnePriceError(Exception):
    """Base of every error raised by oneprice."""


class TransientError(OnePriceError):
    """A failure that may succeed on retry (timeouts, 5xx, connection resets)."""


class RateLimitedError(TransientError):
    """The venue asked us to slow down (HTTP 429). ``retry_after`` is in seconds, if given."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(OnePriceError):
    """A failure that retrying will not fix (4xx other than 429, bad configuration)."""


class NotFoundError(PermanentError):
    """The requested object does not exist at the venue or in the database."""


class ConfigError(PermanentError):
    """Invalid or missing configuration."""


class InputError(PermanentError):
    """A value the user gave (command-line argument, file, parameter) is invalid; nothing was changed."""


class UnknownVenueError(ConfigError, KeyError):
    """No client is registered under that venue name (also a ``KeyError`` for older callers)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ParseError(OnePriceError):
    """A venue record could not be turned into a domain object.

    ``reason`` is a short, stable code (``missing_field:ticker``, ``bad_price``...) used to count
    rejects per reason in an ingest run; ``record_id`` names the record when it is known.
    """

    def __init__(self, reason: str, detail: str = "", record_id: str | None = None) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.record_id = record_id
