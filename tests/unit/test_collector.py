"""Batch handlers run with the cyclic garbage collector paused (api/collector.py)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest

from cityhub.api.collector import collector_paused


@pytest.fixture(autouse=True)
def collector_enabled() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


async def test_collector_paused_disables_the_collector_while_the_handler_runs() -> None:
    seen = []

    @collector_paused
    async def handler(x: int) -> int:
        seen.append(gc.isenabled())
        await asyncio.sleep(0)
        seen.append(gc.isenabled())
        return x + 1

    assert await handler(1) == 2
    assert seen == [False, False]
    assert gc.isenabled()
    assert handler.__name__ == "handler"


async def test_collector_paused_resumes_only_after_the_last_overlapping_handler() -> None:
    first_done = asyncio.Event()
    during_second: list[bool] = []

    @collector_paused
    async def first() -> None:
        await asyncio.sleep(0)

    @collector_paused
    async def second() -> None:
        await first_done.wait()
        during_second.append(gc.isenabled())

    task = asyncio.create_task(second())
    await asyncio.sleep(0)
    await first()
    first_done.set()
    await task
    assert during_second == [False]
    assert gc.isenabled()


async def test_collector_paused_resumes_after_an_error() -> None:
    @collector_paused
    async def failing() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        await failing()
    assert gc.isenabled()


async def test_collector_paused_leaves_a_disabled_collector_disabled() -> None:
    @collector_paused
    async def handler() -> None:
        return None

    gc.disable()
    await handler()
    assert not gc.isenabled()
