"""The schema registry, where one is configured: the Confluent-compatible REST API.

At start a service registers the schema each of its events is emitted with (the JSON Schema
of the event class, as published) under the subject ``<topic>-<event type>``, each event type
evolving on its own, with compatibility ``FULL_TRANSITIVE``: the registry refuses a schema
that any earlier version of the subject cannot read, or that cannot read any of them, and the
service does not start. Every record the service publishes then carries the id of its
schema in the ``schema_id`` header; a consumer fetches that schema with
``GET <registry>/schemas/ids/<id>``.

``SCHEMA_REGISTRY_URL`` is the API's base (for Apicurio Registry, ``.../apis/ccompat/v7``).
Without it nothing here runs and records carry no ``schema_id``.
"""

import json
from collections.abc import Iterable, Mapping
from typing import Any

import httpx
import stamina
import structlog

from rinnovo.contracts import TopicSpec
from rinnovo.runtime.events import Record
from rinnovo.runtime.schemas import event_schema

log = structlog.get_logger(__name__)

SCHEMA_ID_HEADER = "schema_id"
COMPATIBILITY = "FULL_TRANSITIVE"
_MEDIA_TYPE = "application/vnd.schemaregistry.v1+json"


class SchemaRefused(RuntimeError):
    """The registry would not take a schema: it breaks an earlier version of its subject."""


class _CreatedMeanwhile(Exception):
    """A first registration lost a race with another one of the same subject."""


def subject(topic: str, event_type: str, topic_prefix: str = "") -> str:
    return f"{topic_prefix}{topic}-{event_type}"


class SchemaRegistry:
    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self._client = httpx.AsyncClient(
            base_url=url.rstrip("/") + "/",
            timeout=timeout,
            headers={"Accept": _MEDIA_TYPE, "Content-Type": _MEDIA_TYPE},
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def register(self, subject: str, schema: Mapping[str, Any]) -> int:
        """Register ``schema`` under ``subject`` (the same schema again returns its id)."""
        async for attempt in stamina.retry_context(
            on=_CreatedMeanwhile, attempts=6, wait_initial=0.2, timeout=30.0
        ):
            with attempt:
                response = await self._send("POST", f"subjects/{subject}/versions", _body(schema))
                if response.status_code == 409 and "already exists" in response.text:
                    # Another service (or our own retried request) created the subject
                    # between Apicurio's check and its insert: asked again, it is found.
                    raise _CreatedMeanwhile(subject)
        if response.status_code in (409, 422):
            raise SchemaRefused(f"{subject}: {response.text}")
        schema_id: int = response.json()["id"]
        # After the first version exists: some registries know no subject before that.
        await self.set_compatibility(subject, COMPATIBILITY)
        return schema_id

    async def set_compatibility(self, subject: str, level: str) -> None:
        await self._send("PUT", f"config/{subject}", {"compatibility": level})

    async def compatibility(self, subject: str) -> str:
        response = await self._send("GET", f"config/{subject}")
        level: str = response.json()["compatibilityLevel"]
        return level

    async def compatible(self, subject: str, schema: Mapping[str, Any]) -> bool:
        """Whether the subject's compatibility rule accepts ``schema`` as a next version."""
        path = f"compatibility/subjects/{subject}/versions/latest"
        response = await self._send("POST", path, _body(schema))
        return response.status_code not in (409, 422) and bool(response.json()["is_compatible"])

    async def schema(self, schema_id: int) -> dict[str, Any]:
        """The schema registered with ``schema_id``."""
        response = await self._send("GET", f"schemas/ids/{schema_id}")
        found: dict[str, Any] = json.loads(response.json()["schema"])
        return found

    async def _send(self, method: str, path: str, body: Any = None) -> httpx.Response:
        """One request; a refusal (409, 422) is returned, other errors raised. A registry not
        there yet, or failing (Apicurio's in-memory store trips on concurrent first
        registrations, or slow to answer), is asked again for up to three minutes: every request
        here is idempotent."""
        async for attempt in stamina.retry_context(
            on=_worth_retrying, attempts=12, wait_initial=0.2, timeout=180.0
        ):
            with attempt:
                response = await self._client.request(method, path, json=body)
                if response.status_code not in (409, 422):
                    response.raise_for_status()
        return response


def _body(schema: Mapping[str, Any]) -> dict[str, str]:
    return {"schemaType": "JSON", "schema": json.dumps(schema, sort_keys=True)}


def _worth_retrying(exc: Exception) -> bool:
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code >= 500
    return isinstance(exc, httpx.TransportError)


class SchemaIds:
    """The registered schema id of each event type: the header each record gets."""

    def __init__(self, ids: Mapping[str, int]) -> None:
        self.ids = dict(ids)

    def headers(self, record: Record) -> dict[str, str]:
        schema_id = self.ids.get(record.headers.get("ce_type", ""))
        return {} if schema_id is None else {SCHEMA_ID_HEADER: str(schema_id)}


async def register_events(url: str, specs: Iterable[TopicSpec], topic_prefix: str) -> SchemaIds:
    """Register the schema of every event of ``specs``; raises ``SchemaRefused``."""
    registry = SchemaRegistry(url)
    ids = {}
    try:
        for spec in specs:
            for event in spec.events:
                name = subject(spec.name, event.event_type(), topic_prefix)
                ids[event.event_type()] = await registry.register(name, event_schema(event))
    finally:
        await registry.close()
    log.info("event schemas registered", subjects=len(ids))
    return SchemaIds(ids)
