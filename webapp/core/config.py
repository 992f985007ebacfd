"""Typed settings, read from the environment with the ``REHEARSE_`` prefix."""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]

Network = IPv4Network | IPv6Network


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REHEARSE_", extra="ignore")

    env: Literal["development", "production", "test"] = "development"
    data_dir: Path = Path("instance")
    database_url: str | None = None
    secret_key: str | None = Field(default=None, repr=False)
    public_url: str = "http://127.0.0.1:8000"
    https: bool = False

    session_idle_minutes: int = Field(default=8 * 60, ge=1)
    session_absolute_days: float = Field(default=7, gt=0)

    # Reverse proxies whose X-Forwarded-For is believed: addresses or CIDRs, comma-separated.
    # Empty (the default): the header is ignored and the socket peer is the client (web/forwarded.py).
    trusted_proxies: Annotated[tuple[Network, ...], NoDecode] = ()

    # Log-in throttling (identity/throttle.py, docs/operations.md): failures per account and client
    # address (and per known browser) in the window; per client address across accounts; per account
    # from browsers that never logged in to it, in a day, before exponential back-off starts.
    login_max_failures: int = Field(default=5, ge=1)
    login_window_minutes: int = Field(default=15, ge=1)
    login_client_max_failures: int = Field(default=25, ge=1)
    login_account_max_failures: int = Field(default=10, ge=1)
    # Sign-up checks that found an existing account, per client address in the log-in window.
    signup_max_existing: int = Field(default=10, ge=1)

    first_admin_email: str = "admin@example.com"

    # Email (webapp/mail): with no SMTP host, messages are logged and shown on the admin Outbox page.
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: str = Field(default="", repr=False)
    smtp_starttls: bool = True
    mail_from: str = "Rehearse <rehearse@localhost>"
    # Every web process sends the messages whose retry is due this often (0: this process never sweeps).
    mail_sweep_seconds: float = Field(default=30, ge=0, le=3600)

    # Requests handled at once per web process; more wait their turn (see webapp/web/admission.py).
    # Few on purpose: one process runs Python on one core, so more only compete for the GIL
    # (and, on SQLite, hold the write lock longer) while the graders starve (docs/benchmarks.md).
    max_concurrent_requests: int = Field(default=4, ge=1, le=32)

    # Grading. None = one grader thread per CPU; 0 = this process grades nothing (web only).
    grader_concurrency: int | None = Field(default=None, ge=0, le=64)
    grader_lease_seconds: float = Field(default=30, gt=0)
    grader_poll_seconds: float = Field(default=1.0, gt=0)
    grader_max_attempts: int = Field(default=3, ge=1)

    # How candidate code is isolated: bwrap (bubblewrap, required in production), process
    # (rlimits and a temp dir only: development without bubblewrap), or auto (bwrap if installed).
    sandbox: Literal["auto", "bwrap", "process"] = "auto"
    # Pairs of boxes a grading process keeps started ahead for code answers (docs/sandbox.md,
    # "Warm boxes"; about 80 MB each while idle). None = one per grader thread; 0 = off.
    sandbox_warm: int | None = Field(default=None, ge=0, le=64)

    # Answers and uploads.
    max_upload_bytes: int = Field(default=256 * 1024, ge=1024)
    submissions_per_window: int = Field(default=30, ge=1)
    submission_window_minutes: int = Field(default=10, ge=1)
    # argon2id cost; the defaults are OWASP's minimum recommendation.
    argon2_memory_kib: int = Field(default=19456, ge=19456)
    argon2_time_cost: int = Field(default=2, ge=2)
    argon2_parallelism: int = Field(default=1, ge=1)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _read_networks(cls, value: object) -> object:
        entries = value.split(",") if isinstance(value, str) else value
        if not isinstance(entries, list | tuple):
            return value
        return tuple(parse_network(entry) for entry in entries if not isinstance(entry, str) or entry.strip())

    @model_validator(mode="after")
    def _production_needs_secrets(self) -> Settings:
        if self.env == "production":
            if not self.secret_key:
                raise ValueError("REHEARSE_SECRET_KEY is required when REHEARSE_ENV=production")
            if not self.https:
                raise ValueError("REHEARSE_HTTPS=1 is required when REHEARSE_ENV=production")
            if self.sandbox == "process":
                raise ValueError("REHEARSE_SANDBOX=process is not isolated enough for production: install "
                                 "bubblewrap and use bwrap (or auto)")
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'rehearse.db').resolve()}"

    @property
    def public_origin(self) -> str:
        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}".lower()

    @property
    def session_cookie_name(self) -> str:
        # The __Host- prefix pins the cookie to this host and path /, over https only.
        return "__Host-rehearse" if self.https else "rehearse_session"

    @property
    def device_cookie_name(self) -> str:
        return "__Host-rehearse-device" if self.https else "rehearse_device"

    @property
    def forwarded_allow_ips(self) -> str:
        """The trusted proxies as uvicorn's ``forwarded_allow_ips`` (empty: none)."""
        return ",".join(str(network) for network in self.trusted_proxies)

    @property
    def effective_sandbox(self) -> str:
        """Production never falls back to the process sandbox: it needs bubblewrap or fails."""
        return "bwrap" if self.env == "production" else self.sandbox

    @property
    def database_pool_size(self) -> int:
        """Connections a web process may need at once: every admitted request, its grader threads,
        the heartbeat, and one spare."""
        return self.max_concurrent_requests + grader_connections(self.effective_grader_concurrency) + 2

    @property
    def effective_grader_concurrency(self) -> int:
        return os.cpu_count() or 1 if self.grader_concurrency is None else self.grader_concurrency

    @cached_property
    def effective_secret_key(self) -> str:
        return self.secret_key or load_or_create_secret(self.data_dir)


def parse_network(entry: object) -> Network:
    """One REHEARSE_TRUSTED_PROXIES entry: an address (10.0.0.5, ::1) or a network (10.0.0.0/24)."""
    if isinstance(entry, IPv4Network | IPv6Network):
        return entry
    text = str(entry).strip()
    try:
        network = ip_network(text)
    except ValueError as exc:
        raise ValueError(f"REHEARSE_TRUSTED_PROXIES: {text!r} is not an IP address or network "
                         f"(such as 10.0.0.5 or 10.0.0.0/24): {exc}") from None
    mapped = network.network_address.ipv4_mapped if isinstance(network, IPv6Network) else None
    if mapped is not None and network.prefixlen == 128:  # ::ffff:10.0.0.5 is 10.0.0.5
        return ip_network(mapped)
    return network


def grader_connections(concurrency: int) -> int:
    """One connection per grader thread: ``concurrency`` of them plus the quick lane's (grading/worker.py)."""
    return concurrency + 1 if concurrency else 0


def load_or_create_secret(data_dir: Path) -> str:
    """Development secret: generated once and kept in the data dir, readable by the owner only."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def get_settings() -> Settings:
    return Settings()
