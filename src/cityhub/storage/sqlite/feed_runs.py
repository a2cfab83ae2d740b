"""Scheduled feed leases and last-run reports (Store protocol), on SQLite's one writer."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def claim(conn: sqlite3.Connection, feed: str, now: float, until: float) -> bool:
    cursor = conn.execute(
        "INSERT INTO feed_runs (feed, lease_until) VALUES (?, ?)"
        " ON CONFLICT (feed) DO UPDATE SET lease_until = excluded.lease_until"
        " WHERE feed_runs.lease_until <= ?",
        (feed, until, now),
    )
    return cursor.rowcount > 0


def record(conn: sqlite3.Connection, feed: str, report: str) -> None:
    conn.execute(
        "INSERT INTO feed_runs (feed, lease_until, report) VALUES (?, 0, ?)"
        " ON CONFLICT (feed) DO UPDATE SET report = excluded.report",
        (feed, report),
    )


class FeedRunRegistry:
    """Leases that let one of N workers run each scheduled feed, and the last reports."""

    async def _on_reader(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        raise NotImplementedError

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        raise NotImplementedError

    async def claim_feed_run(self, feed: str, now: float, until: float) -> bool:
        return await self._write(lambda conn: claim(conn, feed, now, until))

    async def record_feed_run(self, feed: str, report: str) -> None:
        await self._write(lambda conn: record(conn, feed, report))

    async def feed_run_reports(self) -> dict[str, str]:
        def read(conn: sqlite3.Connection) -> dict[str, str]:
            rows = conn.execute("SELECT feed, report FROM feed_runs WHERE report IS NOT NULL")
            return {str(r[0]): str(r[1]) for r in rows}

        return await self._on_reader(read)
