"""Work run together in one unit of work (``unit_of_work``), and written once.

A consumed batch and a scheduler's sweep both hand over their work by key: each key's steps
run one after the other, in order, and different keys at the same time, while the unit of
work merges their reads into one query per store and keeps their changes in memory. Then it
writes each changed aggregate once. What could not all be stored (a write lost to a
concurrent writer, a step that failed, what depended on them) is reported by key, as the
first step to run again alone, outside any unit of work, where the inbox or the version
guard makes what was stored a no-op.
"""

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence

import structlog

from rinnovo.runtime.changes import OPEN_BATCH
from rinnovo.runtime.dead_letters import is_transient
from rinnovo.runtime.unit_of_work import UnitOfWork

log = structlog.get_logger(__name__)

Step = Callable[[], Awaitable[None]]


async def run_together(work: Mapping[Hashable, Sequence[Step]]) -> dict[Hashable, int]:
    """Run every key's steps in one unit of work and write it; returns, for each key whose
    work was not all stored, the index of its first step to run again alone. Raises, having
    written nothing, if the database or the broker is away."""
    uow = UnitOfWork()
    token = OPEN_BATCH.set(uow)
    try:
        failures = await asyncio.gather(*(_run_key(uow, k, steps) for k, steps in work.items()))
    finally:
        OPEN_BATCH.reset(token)
        uow.open = False
    for failure in failures:
        if failure is not None and is_transient(failure):
            raise failure
    try:
        redo = await uow.flush()
    except Exception as exc:
        if is_transient(exc):
            raise
        log.warning("work done together could not be written; it runs again alone", exc_info=True)
        return dict.fromkeys(work, 0)
    first: dict[Hashable, int] = {}
    for scope in redo:
        first[scope.key] = min(scope.index, first.get(scope.key, scope.index))
    return first


async def _run_key(uow: UnitOfWork, key: Hashable, steps: Sequence[Step]) -> Exception | None:
    """One key's steps in order, up to the first that fails."""
    for index, step in enumerate(steps):
        try:
            with uow.handling(key, index):
                await step()
        except Exception as exc:
            return exc
    return None
