"""Subscription fields, over graphql-transport-ws on /graphql."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import strawberry

from graph_api.context import Info
from graph_api.types import TrainingStatus

#: Seconds between two reads of the training status file while a training runs.
POLL_SECONDS = 0.15


@strawberry.type(description="Follow long-running work as it happens.")
class Subscription:
    @strawberry.subscription(
        description=(
            "The running training's status at each change (stage, completed of total), from "
            "whichever worker runs it; completes when the training ends. With no training "
            "running it completes at once without yielding."
        )
    )
    async def training_progress(self, info: Info) -> AsyncGenerator[TrainingStatus, None]:
        service = info.context.service
        last = None
        status = service.training_status()
        while status is None and service.training:  # this process starts one: wait for it
            await asyncio.sleep(POLL_SECONDS)
            status = service.training_status()
        while status is not None:
            if status != last:
                last = status
                yield TrainingStatus.from_domain(status)
            await asyncio.sleep(POLL_SECONDS)
            status = service.training_status()
