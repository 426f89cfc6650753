"""Reads asked for in the same moment, made as one query (the DataLoader pattern).

The handlers of a batch's keys start together; each awaits its first read, so their first
reads are all asked for before the loop turns: the first ``load`` of a turn schedules one
query for every id asked in it, and each caller gets its own future. Their second reads,
after the first query's answer, become a second query, and so on.
"""

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, Protocol


class Loads(Protocol):
    async def load(self, ids: Sequence[str]) -> dict[str, Any]: ...


class Loader:
    """Loads of one store, gathered per turn of the event loop."""

    def __init__(self, store: Loads) -> None:
        self._store = store
        self._asked: dict[str, list[asyncio.Future[Any]]] = {}
        self._sent: dict[str, list[asyncio.Future[Any]]] = {}
        """Ids whose query is under way: asked again, they wait for its answer."""
        self._queries: set[asyncio.Task[None]] = set()

    def load(self, id_: str) -> "asyncio.Future[Any]":
        """The aggregate with this id as the next query reads it (None if it does not exist)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if id_ in self._sent:
            self._sent[id_].append(future)
            return future
        if not self._asked:
            loop.call_soon(self._send)
        self._asked.setdefault(id_, []).append(future)
        return future

    def _send(self) -> None:
        asked, self._asked = self._asked, {}
        self._sent |= asked
        query = asyncio.create_task(self._query(asked))
        self._queries.add(query)  # kept until done: the loop holds tasks only weakly
        query.add_done_callback(self._queries.discard)

    async def _query(self, asked: dict[str, list["asyncio.Future[Any]"]]) -> None:
        try:
            found = await self._store.load(list(asked))
        except asyncio.CancelledError:
            self._answer(asked, lambda _, future: future.cancel())
            raise
        except Exception as exc:  # each caller gets the failure (the database away)
            failure = exc
            self._answer(asked, lambda _, future: future.set_exception(failure))
            return
        self._answer(asked, lambda id_, future: future.set_result(found.get(id_)))

    def _answer(
        self,
        asked: dict[str, list["asyncio.Future[Any]"]],
        answer: Callable[[str, "asyncio.Future[Any]"], Any],
    ) -> None:
        for id_, futures in asked.items():
            del self._sent[id_]
            for future in futures:
                if not future.done():  # its caller may have been cancelled meanwhile
                    answer(id_, future)
