"""One settings object for a node.

Read from ``CROSSBORDER_*`` environment variables or a ``.env``-style file named by
``CROSSBORDER_SETTINGS_FILE``; tests and the demo build it explicitly. A missing
required value fails loudly at start-up rather than at the first message.
"""

from __future__ import annotations

import os
import socket
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CROSSBORDER_",
        env_file=os.environ.get("CROSSBORDER_SETTINGS_FILE"),
        extra="forbid",
        frozen=True,
    )

    #: This node's agency code (see ``crossborder/reference/data/agencies.json``).
    agency: str
    country: Literal["CN", "VN"]
    #: The node's public base URL: the OAuth issuer and the API audience derive from it.
    base_url: str
    #: Where keys and the embedded database live.
    data_dir: Path
    #: SQLAlchemy URL; defaults to an SQLite file in ``data_dir``.
    database_url: str | None = None
    #: PostgreSQL only. Connections this process keeps open, and opens beyond that
    #: at a peak: replicas × (both) must stay below the server's ``max_connections``.
    database_pool_size: int = Field(default=5, ge=1)
    database_max_overflow: int = Field(default=5, ge=0)
    #: PostgreSQL only: a session idle inside a transaction this long is ended by the
    #: server, releasing its locks (a stalled replica must not freeze the others);
    #: a lock is waited for at most ``database_lock_timeout_seconds`` (longer, so
    #: that a waiter outlasts a stalled holder) and a statement runs at most
    #: ``database_statement_timeout_seconds``. 0 switches one off.
    database_idle_in_transaction_seconds: float = Field(default=5.0, ge=0)
    database_lock_timeout_seconds: float = Field(default=10.0, ge=0)
    database_statement_timeout_seconds: float = Field(default=60.0, ge=0)
    timezone: str = "UTC"
    #: Border gate this node works at (UN/LOCODE or our own gate code).
    gate: str | None = None
    host: str = "127.0.0.1"
    #: Names this node process among the replicas of its agency that share one
    #: database (by default the machine's name and the port): a replica that
    #: restarts takes back at once the messages its previous run was sending.
    replica: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[^/]+$")
    #: Where ``node serve`` listens; by default the port written in ``base_url``, else 8400.
    port: int = Field(default=8400, ge=1, le=65535)
    #: Largest accepted request body; a Form E with a hundred items is ~100 kB.
    max_body_bytes: int = 1_000_000
    #: How much of a refused message's body is kept with its record.
    refused_body_keep_bytes: int = Field(default=64_000, ge=0)
    #: How many bytes of refused bodies one client may have kept in a day; beyond it
    #: each refusal still has its record and audit entry, with only the body's first 1 kB.
    refused_body_budget_bytes: int = Field(default=4_000_000, ge=0)
    #: Messages one authenticated client may post per second, on average and in a burst;
    #: beyond them it is answered 429 with ``Retry-After``. Counted per node process.
    client_rate_per_second: float = Field(default=200.0, gt=0)
    client_burst: int = Field(default=400, ge=1)
    #: Token requests per second (and burst) from one IP address: the token endpoint
    #: answers before anyone is authenticated, so it is limited by address.
    token_rate_per_second: float = Field(default=10.0, gt=0)
    token_burst: int = Field(default=50, ge=1)
    access_token_ttl_seconds: int = 300
    #: How long a next key is published before the node signs with it (``node
    #: rotate-keys``): long enough for every counterpart to have fetched our JWKS again.
    key_publication_seconds: int = Field(default=86_400, ge=0)
    #: Accept a received certificate of origin automatically when every rule passes;
    #: otherwise it waits for an officer's decision.
    auto_accept_certificates: bool = True
    #: Share of green-lane trucks drawn at random for a joint inspection, in percent;
    #: unset, the rate of ``lane_rules.json``. The rate applied is recorded with each draw.
    lane_random_selection_percent: Decimal | None = Field(default=None, ge=0, le=100)
    #: A JSON file of the release targets this node publishes and measures against
    #: (minutes per step and lane, the shape of ``targets`` in ``lane_rules.json``);
    #: unset, those of ``lane_rules.json``.
    lane_targets_file: Path | None = None
    #: How often the background loops look for work they were not woken for.
    poll_seconds: float = Field(default=0.5, gt=0)
    #: How often the node's deadline watcher looks for reminders and escalations due:
    #: an alert of a vessel in distress has minutes, not a five-minute schedule's slack.
    deadline_poll_seconds: float = Field(default=10.0, gt=0)
    #: Attempts after which a refusal that may heal (a 401 even with a fresh token, a
    #: receipt signed by a key we cannot find) is final; with the backoff, some
    #: two and a half hours. A counterpart that is down is never given up on.
    delivery_max_attempts: int = Field(default=20, ge=1)
    #: Messages on their way to one counterpart at once, each case's still one after
    #: the other: a batch sent one message at a time leaves both nodes waiting on
    #: each other's round trip.
    delivery_concurrency: int = Field(default=4, ge=1, le=32)
    #: The long-lived Prefect server (``make prefect-server``). When set, ``node serve``
    #: also serves this node's flows there: the deadline watcher on a schedule and the
    #: officer workflows as deployments other systems and the Prefect UI can start.
    prefect_api_url: str | None = None
    #: The console's session cookie is sent over HTTPS only (``Secure``). Switch it off
    #: only for a node reached over plain http on its own host (the demo, the tests).
    console_secure_cookie: bool = True
    #: A console session ends after this long without a request, and at the latest
    #: after ``console_session_seconds`` (a working day), whatever the officer does.
    console_idle_seconds: int = Field(default=1800, ge=60)
    console_session_seconds: int = Field(default=43_200, ge=60)
    #: Wrong console passwords allowed in ``console_sign_in_window_seconds``, per
    #: officer id and per address, before sign-in is refused until the window passes.
    console_sign_in_failures: int = Field(default=5, ge=1)
    console_sign_in_address_failures: int = Field(default=20, ge=1)
    console_sign_in_window_seconds: int = Field(default=900, ge=1)
    #: The agency's OpenID Connect provider, if it has one: officers may then sign in
    #: there instead of with a console password. Its issuer (exactly as its discovery
    #: document says it), and this console's client registration at it.
    console_oidc_issuer: str | None = None
    console_oidc_client_id: str | None = None
    console_oidc_client_secret: SecretStr | None = None
    #: The ID token claim whose value is the officer's id at this node; an unknown or
    #: removed officer is refused (``OIDC_OFFICER_UNKNOWN``) whoever the provider says it is.
    console_oidc_officer_claim: str = "preferred_username"

    @field_validator("base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise PydanticCustomError("TIMEZONE_SETTING_UNKNOWN", "unknown time zone") from exc
        return value

    @model_validator(mode="before")
    @classmethod
    def _port_from_base_url(cls, data: Any) -> Any:
        # Two nodes on one machine differ by the port in their base URL; asking for
        # the same port twice, once in CROSSBORDER_PORT, would be a trap.
        if isinstance(data, dict) and "port" not in data and isinstance(data.get("base_url"), str):
            try:
                port = urlsplit(data["base_url"]).port
            except ValueError:
                port = None
            if port is not None:
                return {**data, "port": port}
        return data

    @property
    def replica_name(self) -> str:
        return self.replica or f"{socket.gethostname()[:58]}:{self.port}"

    @property
    def issuer(self) -> str:
        return self.base_url

    @property
    def audience(self) -> str:
        """The API identifier access tokens must be issued for (RFC 9068 ``aud``)."""
        return f"{self.base_url}/v1"

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'node.db'}"

    @property
    def signing_key_path(self) -> Path:
        return self.data_dir / "keys" / "signing.jwk.json"

    @property
    def token_key_path(self) -> Path:
        return self.data_dir / "keys" / "token.jwk.json"
