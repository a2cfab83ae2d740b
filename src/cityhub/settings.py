"""One typed Settings object: defaults, then an optional TOML file, then ``CITYHUB_*`` variables.

Every field carries its help text in its metadata; ``cityhub settings`` prints them and a test
fails when a field has none, so the settings are their own documentation.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_PREFIX = "CITYHUB_"


def _setting(default: Any, help_text: str) -> Any:
    return field(default=default, metadata={"help": help_text})


@dataclass(frozen=True)
class Settings:
    """Configuration of one hub process (and of each of its workers)."""

    database_url: str = _setting(
        "sqlite:///cityhub.db",
        "Where entities are stored: sqlite:///path/to/file.db (embedded, the default) or "
        "postgresql://user:password@host:port/dbname (PostgreSQL 15 + PostGIS 3).",
    )
    host: str = _setting("0.0.0.0", "Address the HTTP server listens on.")
    port: int = _setting(1026, "TCP port the HTTP server listens on (1026 is NGSI-LD's usual).")
    workers: int = _setting(1, "Number of worker processes sharing the store.")
    max_body_bytes: int = _setting(
        4 * 1024 * 1024, "Largest accepted request body in bytes; larger bodies get 413."
    )
    max_json_depth: int = _setting(
        32, "Deepest accepted nesting of JSON objects and arrays in a request body."
    )
    context_fetch_timeout: float = _setting(
        5.0, "Seconds allowed to fetch one remote JSON-LD @context before LdContextNotAvailable."
    )
    context_max_bytes: int = _setting(
        1024 * 1024, "Largest remote JSON-LD @context document accepted, in bytes."
    )
    context_max_fetches: int = _setting(
        16, "Most remote @context documents one request may cause to be fetched (imports included)."
    )
    context_cache_size: int = _setting(
        512, "Most remote @context documents kept in the cache; the least recently used goes."
    )
    context_allow_hosts: str = _setting(
        "*",
        "Comma-separated host names remote @contexts may be fetched from; '*' allows any and "
        "'' allows none (an offline hub serves only the core and hosted contexts).",
    )
    multi_tenancy: bool = _setting(
        True, "Honour the NGSILD-Tenant header; when false a tenant header gets 501."
    )
    hub_alias: str = _setting(
        "",
        "This hub's contextSourceAlias (/ngsi-ld/v1/info/sourceIdentity): the pseudonym other "
        "hubs see in Via headers to detect loops, unique among federated hubs (e.g. "
        "seoul-cityhub); empty makes one from the hub's stored id.",
    )
    query_default_limit: int = _setting(
        20, "Entities per page of a query when the request gives no limit (clause 5.5.9)."
    )
    query_max_limit: int = _setting(
        1000, "Largest limit a query may ask for; above it the answer is TooManyResults (403)."
    )
    notifications: bool = _setting(
        True,
        "Deliver subscription notifications from this process (every worker shares the work "
        "through the store's outbox).",
    )
    notification_retry_max: float = _setting(
        60.0,
        "Longest wait in seconds between two attempts to deliver a notification to an endpoint "
        "that keeps failing (the wait doubles from 0.5 s up to this).",
    )
    notification_retention: float = _setting(
        86_400.0,
        "Seconds a notification is retried before it is dropped (its subscription records "
        "the failures).",
    )
    notification_lease: float = _setting(
        60.0,
        "Seconds a worker holds notifications it claimed; those of a worker that died are "
        "delivered by another once this runs out.",
    )
    notification_feed_retention: float = _setting(
        3600.0,
        "Seconds the live feed (urn:cityhub:sse endpoints, GET /subscriptions/{id}/stream) "
        "keeps notifications for browsers that reconnect with Last-Event-ID.",
    )
    notification_mqtt_ca_file: str = _setting(
        "",
        "PEM file of extra certificate authorities trusted for mqtts:// notification endpoints "
        "(beside the system's).",
    )
    temporal_history: bool = _setting(
        True,
        "Record the temporal evolution of every entity change (clause 4.5.6), served by the "
        "/temporal API; when false nothing new is recorded.",
    )
    temporal_instance_limit: int = _setting(
        1000,
        "Most instances of one attribute of one entity in a temporal answer; beyond it the "
        "answer is 206 Partial Content with a Content-Range to continue from (clause 6.3.10).",
    )
    temporal_retention_days: float = _setting(
        0.0,
        "Days of history kept (by the time each instance was recorded); older instances are "
        "dropped hourly in small batches. 0 keeps everything.",
    )
    temporal_retention_tenants: str = _setting(
        "",
        "Per-tenant days of history, overriding temporal_retention_days: comma-separated "
        "tenant=days pairs such as 'tokyo=30,seoul=90' (0 keeps everything; the default "
        "tenant is written as an empty name: '=30').",
    )
    iot_mqtt_url: str = _setting(
        "",
        "MQTT broker the IoT device agent reads measures from (mqtt://[user:password@]host"
        "[:port], or mqtts://); empty runs no agent. Devices publish on /<apikey>/<device_id>"
        "/attrs (FIWARE IoT Agent JSON topics).",
    )
    iot_autoprovision: bool = _setting(
        False,
        "Provision a device on its first message when its apikey's service group exists; "
        "when false such messages are dead-lettered.",
    )
    feeds: tuple[dict[str, Any], ...] = _setting(
        (),
        "Open-data feeds this hub runs on a schedule: in the TOML file an array of tables "
        "[[feeds]] with adapter (short name, see 'cityhub ingest --list'), tenant (default: "
        "the adapter's), interval (seconds, default 300) and options (a table); in the "
        "environment the same as a JSON array.",
    )
    feed_timeout: float = _setting(20.0, "Seconds one feed HTTP request may take.")
    feed_retries: int = _setting(
        3, "Retries of a failed feed request (connection error, timeout, 429, 5xx), with backoff."
    )
    seoul_api_key: str = _setting(
        "", "API key of the Seoul Open Data Plaza (openapi.seoul.go.kr) for the Seoul feeds."
    )
    data_go_kr_api_key: str = _setting(
        "",
        "Service key of data.go.kr / safetydata.go.kr (AirKorea air quality, disaster messages).",
    )
    odpt_api_key: str = _setting("", "Consumer key of the ODPT API (Tokyo public transport).")
    dashboard_map_style: str = _setting(
        "",
        "URL of a MapLibre style JSON for the dashboard map (an online basemap); empty uses the "
        "offline basemap (land, coastlines, borders and the data's own roads).",
    )
    dashboard_tile_url: str = _setting(
        "",
        "Raster tile URL template ({z}/{x}/{y}) drawn under the dashboard's data when no style "
        "is set, e.g. a city's own tile server; empty draws none.",
    )
    dashboard_tile_attribution: str = _setting(
        "", "Attribution shown on the dashboard map for the style or tiles set above."
    )
    dashboard_assets: str = _setting(
        "",
        "Folder holding the dashboard's npm packages (node_modules); empty uses the one "
        "beside the dashboard's sources (src/cityhub/dashboard/web/node_modules).",
    )
    federation_timeout: float = _setting(
        5.0,
        "Seconds a context source may take to answer a distributed operation when its "
        "registration sets no management.timeout; a slower source is left out of the answer "
        "with an NGSILD-Warning.",
    )
    sources: tuple[dict[str, Any], ...] = _setting(
        (),
        "City hubs this (regional) hub federates: in the TOML file an array of tables "
        "[[sources]] with name, endpoint, types, tenant (at the source), key (the partner key "
        "it gave this hub) and optionally here (the tenant here), mode and operations; each "
        "is kept as a context source registration (docs/federation.md).",
    )
    partners: tuple[dict[str, Any], ...] = _setting(
        (),
        "Partner hubs and what this hub shares with each: in the TOML file an array of "
        "tables [[partners]] with name, key (the partner sends Authorization: Bearer <key>), "
        "types (entity types it may read) and optionally attributes = {Type = [names]}; "
        "nothing else ever reaches that partner (docs/federation.md).",
    )
    admin_key: str = _setting(
        "",
        "When set, every request must carry Authorization: Bearer <this key> (the city's "
        "own) or a partner's key; when empty, requests without a key are the city's own.",
    )
    bundled_contexts: bool = _setting(
        True,
        "Answer the Smart Data Models @context URLs from the copies shipped with the hub "
        "(works offline); false fetches them from the network like any other context.",
    )
    sqlite_readers: int = _setting(4, "Reader connections in the SQLite pool (one writer besides).")
    pg_pool_size: int = _setting(10, "Connections in each worker's PostgreSQL pool.")
    log_level: str = _setting("info", "Log level: debug, info, warning or error.")
    config_file: str = _setting(
        "",
        "Optional TOML file with any of these settings as top-level keys (or under [cityhub]); "
        "environment variables override it.",
    )

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgres``, from the database URL's scheme."""
        scheme = self.database_url.split(":", 1)[0].lower()
        if scheme == "sqlite":
            return "sqlite"
        if scheme in {"postgres", "postgresql"}:
            return "postgres"
        raise ValueError(
            f"Setting database_url has the unsupported scheme {scheme!r}; "
            "use sqlite:///path.db or postgresql://…"
        )

    def __post_init__(self) -> None:
        """Refuse values no hub can run with, naming the setting (ValueError)."""
        for name, low, high in _RANGES:
            value = getattr(self, name)
            if not low <= value <= high:
                bound = f"at least {low}" if high == _NO_MAX else f"between {low} and {high}"
                raise ValueError(f"Setting {name} must be {bound}, got {value!r}")
        if self.context_fetch_timeout <= 0:
            raise ValueError(
                f"Setting context_fetch_timeout must be positive, got {self.context_fetch_timeout}"
            )
        if self.temporal_retention_days < 0:
            raise ValueError("Setting temporal_retention_days must not be negative")
        self.retention_by_tenant()  # raises ValueError for a malformed list
        if self.log_level not in LOG_LEVELS:
            raise ValueError(
                f"Setting log_level must be one of {', '.join(LOG_LEVELS)}, got {self.log_level!r}"
            )
        self.backend  # noqa: B018 - raises ValueError for an unsupported database URL

    def retention_by_tenant(self) -> dict[str, float]:
        """temporal_retention_tenants as {tenant: days}; ValueError naming the bad pair."""
        found: dict[str, float] = {}
        for pair in self.temporal_retention_tenants.split(","):
            if not pair.strip():
                continue
            tenant, sep, days = pair.partition("=")
            try:
                value = float(days)
            except ValueError:
                value = -1.0
            if not sep or value < 0:
                raise ValueError(
                    f"Setting temporal_retention_tenants needs tenant=days pairs, got {pair!r}"
                )
            found[tenant.strip()] = value
        return found

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


LOG_LEVELS = ("debug", "info", "warning", "error")
_NO_MAX = 2**63
_RANGES = (
    ("port", 0, 65535),
    ("workers", 1, _NO_MAX),
    ("max_body_bytes", 1, _NO_MAX),
    ("max_json_depth", 1, _NO_MAX),
    ("context_max_bytes", 1, _NO_MAX),
    ("context_max_fetches", 0, _NO_MAX),
    ("context_cache_size", 0, _NO_MAX),
    ("sqlite_readers", 1, _NO_MAX),
    ("temporal_instance_limit", 1, _NO_MAX),
    ("pg_pool_size", 1, _NO_MAX),
)


def _coerce(name: str, raw: Any, kind: Any, *, parse: bool = True) -> Any:
    """``raw`` as the field's type; ValueError naming the setting if it is not one.

    Values must already have the right type (an integer is a valid float); with ``parse``,
    strings are parsed, as environment variables and command-line arguments need.
    """
    kind_name = kind if isinstance(kind, str) else kind.__name__
    if kind_name.startswith("tuple[dict"):
        return _tables(name, raw, parse=parse)
    if kind_name == "bool":
        if isinstance(raw, bool):
            return raw
        text = raw.strip().lower() if parse and isinstance(raw, str) else ""
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off"}:
            return False
        raise ValueError(f"Setting {name} expects a boolean, got {raw!r}")
    if kind_name in {"int", "float"}:
        exact = int if kind_name == "int" else (int, float)
        if isinstance(raw, exact) and not isinstance(raw, bool):
            return float(raw) if kind_name == "float" else raw
        try:
            if parse and isinstance(raw, str):
                return int(raw.strip()) if kind_name == "int" else float(raw.strip())
        except ValueError:
            pass
        article = "an integer" if kind_name == "int" else "a number"
        raise ValueError(f"Setting {name} expects {article}, got {raw!r}")
    if not isinstance(raw, str):
        raise ValueError(f"Setting {name} expects a string, got {raw!r}")
    return raw


def _tables(name: str, raw: Any, *, parse: bool) -> tuple[dict[str, Any], ...]:
    """An array of tables: from TOML as it is, from the environment as a JSON array."""
    if parse and isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else []
        except json.JSONDecodeError as exc:
            raise ValueError(f"Setting {name} expects a JSON array of objects: {exc}") from None
    if isinstance(raw, tuple):
        raw = list(raw)
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise ValueError(f"Setting {name} expects an array of tables, got {raw!r}")
    return tuple(dict(item) for item in raw)


def load_settings(
    environ: dict[str, str] | None = None, config_file: str | None = None, **overrides: Any
) -> Settings:
    """Build Settings from defaults, the TOML file, ``CITYHUB_*`` variables, then overrides."""
    env = os.environ if environ is None else environ
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    values: dict[str, Any] = {}
    path = config_file or env.get(ENV_PREFIX + "CONFIG_FILE", "")
    if path:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ValueError(f"Settings file {path} cannot be read: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"Settings file {path} is not valid TOML: {exc}") from exc
        table = data.get("cityhub", data)
        if not isinstance(table, dict):
            raise ValueError(f"[cityhub] in {path} must be a table")
        for key, raw in table.items():
            if key not in fields:
                raise ValueError(f"Unknown setting {key!r} in {path}")
            if key == "config_file":
                raise ValueError(f"config_file cannot be set inside {path}")
            values[key] = _coerce(key, raw, fields[key].type, parse=False)
        values["config_file"] = path
    for name, fld in fields.items():
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is not None and name != "config_file":
            values[name] = _coerce(name, raw, fld.type)
    for name, raw in overrides.items():
        if name not in fields:
            raise ValueError(f"Unknown setting {name!r}")
        if raw is not None:
            values[name] = _coerce(name, raw, fields[name].type)
    return Settings(**values)


def describe_settings() -> list[tuple[str, str, Any]]:
    """(environment variable, help, default) for each setting, for ``cityhub settings``."""
    return [
        (ENV_PREFIX + f.name.upper(), f.metadata.get("help", ""), f.default)
        for f in dataclasses.fields(Settings)
    ]
