"""The cyclic garbage collector paused while a batch request runs (DESIGN §9).

A 1,000-entity batch allocates some 100,000 dicts and lists that live until the response is
sent. CPython's collector counts them as they are made and, since they all survive, runs
ever larger collections over them (and over everything else the worker holds) while the
batch is parsed: a fifth to a third of the batch's own CPU. Reference counting still frees
all the batch's acyclic objects at once when the handler returns; only cycles wait for the
collector, which runs again as soon as no batch is in progress.
"""

from __future__ import annotations

import functools
import gc
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_paused = 0  # requests in progress that paused the collector
_resume = False  # whether it was enabled when the first of them paused it


def _pause() -> None:
    global _paused, _resume
    with _lock:
        if _paused == 0:
            _resume = gc.isenabled()
            gc.disable()
        _paused += 1


def _unpause() -> None:
    global _paused
    with _lock:
        _paused -= 1
        if _paused == 0 and _resume:
            gc.enable()


def collector_paused(
    handler: Callable[..., Awaitable[T]],
) -> Callable[..., Awaitable[T]]:
    """Run an async handler with the collector paused; several may overlap on one loop.

    The pause ends after the handler has returned, so its locals (the parsed body, the new
    entities) are already freed and the next collection need not visit them.
    """

    @functools.wraps(handler)
    async def paused(*args: object, **kwargs: object) -> T:
        _pause()
        try:
            return await handler(*args, **kwargs)
        finally:
            _unpause()

    return paused
