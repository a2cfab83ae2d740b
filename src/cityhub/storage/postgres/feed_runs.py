"""Scheduled feed leases and last-run reports (Store protocol), through the pool.

The lease is one conditional upsert: of N workers asking at the same time exactly one sees
its row written, so each feed runs once per interval whatever the number of workers.
"""

from __future__ import annotations

import asyncpg


class FeedRunRegistry:
    """Leases that let one of N workers run each scheduled feed, and the last reports."""

    @property
    def pool(self) -> asyncpg.Pool:
        raise NotImplementedError

    async def claim_feed_run(self, feed: str, now: float, until: float) -> bool:
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                "INSERT INTO feed_runs (feed, lease_until) VALUES ($1, $2)"
                " ON CONFLICT (feed) DO UPDATE SET lease_until = excluded.lease_until"
                " WHERE feed_runs.lease_until <= $3 RETURNING 1",
                feed,
                until,
                now,
            )
            return row is not None

    async def record_feed_run(self, feed: str, report: str) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO feed_runs (feed, lease_until, report) VALUES ($1, 0, $2)"
                " ON CONFLICT (feed) DO UPDATE SET report = excluded.report",
                feed,
                report,
            )

    async def feed_run_reports(self) -> dict[str, str]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch("SELECT feed, report FROM feed_runs WHERE report IS NOT NULL")
            return {str(r["feed"]): str(r["report"]) for r in rows}
