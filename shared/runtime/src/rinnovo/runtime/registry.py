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
        response = await self._client.post(
            f"subjects/{subject}/versions",
            json={"schemaType": "JSON", "schema": json.dumps(schema, sort_keys=True)},
        )
        if response.status_code in (409, 422):
            raise SchemaRefused(f"{subject}: {response.text}")
        response.raise_for_status()
        schema_id: int = response.json()["id"]
        # After the first version exists: some registries know no subject before that.
        await self.set_compatibility(subject, COMPATIBILITY)
        return schema_id

    async def set_compatibility(self, subject: str, level: str) -> None:
        response = await self._client.put(f"config/{subject}", json={"compatibility": level})
        response.raise_for_status()

    async def compatible(self, subject: str, schema: Mapping[str, Any]) -> bool:
        """Whether the subject's compatibility rule accepts ``schema`` as a next version."""
        response = await self._client.post(
            f"compatibility/subjects/{subject}/versions/latest",
            json={"schemaType": "JSON", "schema": json.dumps(schema, sort_keys=True)},
        )
        if response.status_code in (409, 422):
            return False
        response.raise_for_status()
        return bool(response.json()["is_compatible"])

    async def schema(self, schema_id: int) -> dict[str, Any]:
        """The schema registered with ``schema_id``."""
        response = await self._client.get(f"schemas/ids/{schema_id}")
        response.raise_for_status()
        found: dict[str, Any] = json.loads(response.json()["schema"])
        return found


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
