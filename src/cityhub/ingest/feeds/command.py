"""``cityhub ingest``: run one feed adapter now, live or on saved payloads, into the store.

It writes through the same services as the serving hub (so history and subscription
notifications follow: a running hub delivers what this process committed) and prints the run
report as one JSON line. Exit status 1 when the feed could not be fetched.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from cityhub.ingest.feeds.base import FeedConfig, adapters
from cityhub.ingest.feeds.fetch import Fetcher
from cityhub.ingest.feeds.runner import RunReport
from cityhub.ingest.feeds.scheduler import build_adapter, secrets_of
from cityhub.settings import Settings, load_settings


def option_pairs(pairs: list[str]) -> dict[str, Any]:
    """``key=value`` pairs; a value that parses as JSON (numbers, lists, objects, booleans)
    is taken as such, otherwise as text."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--option expects key=value, got {pair!r}")
        try:
            options[key] = orjson.loads(value)
        except orjson.JSONDecodeError:
            options[key] = value
    return options


async def run_ingest(
    settings: Settings,
    adapter_name: str,
    tenant: str | None,
    options: dict[str, Any],
    files: list[Path],
) -> RunReport:
    from cityhub.hub import Hub

    adapter = build_adapter(FeedConfig(adapter_name, tenant, 300.0, options), settings)
    target = adapter.default_tenant if tenant is None else tenant
    hub = Hub(settings)
    await hub.store.open()
    try:
        await hub.store.migrate()
        if files:
            items = []
            for path in files:
                fetched_at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
                items.extend(
                    adapter.parse(path.read_bytes(), fetched_at=fetched_at, source=path.name)
                )
            return await hub.feeds.store_items(adapter.name, target, items)
        fetcher = Fetcher(
            timeout=settings.feed_timeout,
            retries=settings.feed_retries,
            secrets=secrets_of(settings),
        )
        try:
            return await hub.feeds.run(adapter, fetcher, target)
        finally:
            await fetcher.aclose()
    finally:
        await hub.contexts.aclose()
        await hub.store.close()


def ingest_command(args: argparse.Namespace) -> int:
    if args.list or not args.adapter:
        for cls in adapters():
            key = f"  (API key: CITYHUB_{cls.key_setting.upper()})" if cls.key_setting else ""
            print(f"{cls.name:<18} tenant {cls.default_tenant or '(default)':<9} {cls.title}{key}")
        return 0
    settings = load_settings(config_file=args.config)
    report = asyncio.run(
        run_ingest(
            settings,
            args.adapter,
            args.tenant,
            option_pairs(args.option or []),
            [Path(f) for f in args.file or []],
        )
    )
    print(orjson.dumps(report.as_json()).decode())
    return 1 if report.error else 0


def add_parser(commands: Any) -> None:
    ingest = commands.add_parser(
        "ingest",
        help="run an open-data feed adapter now (live, or on saved payloads with --file) "
        "and print its report; --list shows the adapters",
    )
    ingest.add_argument("adapter", nargs="?", help="adapter short name or package.module:Class")
    ingest.add_argument("--list", action="store_true", help="list the adapters and exit")
    ingest.add_argument("--tenant", help="tenant to write into (default: the adapter's)")
    ingest.add_argument(
        "--option",
        action="append",
        metavar="KEY=VALUE",
        help="adapter option (repeatable); JSON values allowed, e.g. areas='[\"POI009\"]'",
    )
    ingest.add_argument(
        "--file",
        action="append",
        metavar="PATH",
        help="map this saved payload instead of fetching (repeatable)",
    )
    ingest.set_defaults(run=ingest_command)
