"""Run a long API call while polling the API's training progress, for the pages' background
events: `async for update in watch(call, poll)` yields a `TrainingStatus` (or None, nothing
running) every `every_s` seconds until the call ends, then the call's own outcome."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from web import api_client
from web.api_client import ApiError, TrainingStatus

T = TypeVar("T")

#: Seconds between progress polls (`health { training }`): often enough for a live bar, rare
#: enough to cost the API nothing (a health query is under 2 ms).
POLL_EVERY_S = 0.4

#: What each training stage means to a marketer.
STAGE_WORDS = {
    "LOADING": "Reading the data",
    "SCANNING": "Trying numbers of segments",
    "FITTING": "Fitting the segments",
    "PROFILING": "Describing the segments and checking their stability",
    "STORING": "Saving the model",
}


@dataclass(frozen=True)
class Done(Generic[T]):
    """The call finished: its outcome (or the `ApiError` it raised)."""

    outcome: T | None
    error: ApiError | None


async def _poll(poll: Callable[[], Awaitable[api_client.Health]]) -> TrainingStatus | None:
    try:
        return (await poll()).training
    except ApiError:
        return None  # progress is a nicety; the call itself reports real failures


async def watch(
    call: Awaitable[T],
    poll: Callable[[], Awaitable[api_client.Health]] = api_client.fetch_health,
    *,
    every_s: float = POLL_EVERY_S,
) -> AsyncIterator[TrainingStatus | None | Done[T]]:
    """Yield training progress while `call` runs, then `Done(outcome)`."""
    task: asyncio.Task[Any] = asyncio.ensure_future(call)
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=every_s)
            if not task.done():
                yield await _poll(poll)
        try:
            yield Done(task.result(), None)
        except ApiError as exc:
            yield Done(None, exc)
    finally:
        if not task.done():
            task.cancel()


async def follow(
    state: Any,
    call: Awaitable[T],
    started: float,
    poll: Callable[[], Awaitable[api_client.Health]] = api_client.fetch_health,
    *,
    every_s: float = POLL_EVERY_S,
) -> Done[T] | None:
    """Run `call` (a training) from a page's background event and show its progress on the
    page's `state` (`train_stage`, `train_steps`, `train_pct`, `train_stage_code`,
    `train_elapsed`, seconds since `started`) until it ends; then its `Done`."""
    async for update in watch(call, poll, every_s=every_s):
        if isinstance(update, Done):
            return update
        stage, steps, pct = progress_words(update)
        async with state:
            state.train_stage, state.train_steps, state.train_pct = stage, steps, pct
            state.train_stage_code = update.stage if update else ""
            state.train_elapsed = int(time.monotonic() - started)
    return None


def progress_words(status: TrainingStatus | None) -> tuple[str, str, int]:
    """(stage in words, "step 2 of 5 · 3 of 9", overall percent 0-100) for a progress bar.

    The bar runs once from 0 to 100 over the five stages (each stage an equal part, filled by
    its completed/total) instead of starting again at every stage.
    """
    if status is None:
        return "Starting", "", 0
    stage = STAGE_WORDS.get(status.stage, status.stage.capitalize())
    order = list(STAGE_WORDS)
    index = order.index(status.stage) if status.stage in order else 0
    fraction = min(status.completed, status.total) / status.total if status.total > 0 else 0.0
    steps = f"step {index + 1} of {len(order)}"
    if status.total > 1:
        steps += f" · {min(status.completed, status.total)} of {status.total}"
    return stage, steps, round(100 * (index + fraction) / len(order))
