"""``rinnovo outbox status``: per service, what waits in its outboxes and who relays it.

For each service's database: the documents whose outbox holds events to publish, those
events, the oldest of them (by when it occurred) and the relay's lease (its holder, and
until when). Every pending document's outbox is read, so on a large backlog the command
takes as long as that read.
"""

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from pymongo import AsyncMongoClient

from rinnovo.runtime.events import Record
from rinnovo.runtime.ops import settings
from rinnovo.runtime.ops.settings import Deployment, Document, ServiceView
from rinnovo.runtime.outbox import OUTBOX, PENDING

LEASES = "outbox_relay_leases"


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    outbox = commands.add_parser("outbox", help="the services' outboxes")
    actions = outbox.add_subparsers(dest="action", required=True)
    status = actions.add_parser("status", help="pending events and relay lease per service")
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=lambda a: settings.run(show_status, a))


async def status_of(
    client: AsyncMongoClient[Document], service: ServiceView, now: datetime
) -> dict[str, Any]:
    db = client[service.database]
    documents = events = 0
    oldest: datetime | None = None
    for name in sorted(await db.list_collection_names()):
        async for doc in db[name].find({PENDING: True}, {OUTBOX: 1}):
            records = [Record.from_document(r) for r in doc.get(OUTBOX, [])]
            documents += 1
            events += len(records)
            times = [t for r in records if (t := r.time) is not None]
            if times:
                oldest = min([*times, oldest] if oldest else times)
    lease = await db[LEASES].find_one({"_id": service.name})
    return {
        "service": service.name,
        "database": service.database,
        "pending_documents": documents,
        "pending_events": events,
        "oldest_event_at": oldest.isoformat() if oldest else None,
        "oldest_event_age_seconds": round((now - oldest).total_seconds(), 1) if oldest else None,
        "lease": None if lease is None else _lease(lease, now),
    }


def _lease(doc: Document, now: datetime) -> dict[str, Any]:
    until: datetime = doc["until"]
    return {
        "holder": doc.get("holder", doc.get("owner")),
        "until": until.isoformat(),
        "held": until > now,
    }


async def show_status(args: argparse.Namespace, deployment: Deployment) -> int:
    client = deployment.mongo()
    try:
        existing = set(await client.list_database_names())
        now = datetime.now(UTC)
        statuses = [
            await status_of(client, service, now)
            for service in deployment.services
            if service.database in existing  # the portal keeps nothing
        ]
    finally:
        await client.close()
    if args.json:
        print(json.dumps(statuses, indent=2))
        return 0
    for s in statuses:
        lease = s["lease"]
        relay = "no relay yet" if lease is None else f"lease of {lease['holder']}"
        if lease is not None:
            relay += f" {'until' if lease['held'] else 'expired at'} {lease['until']}"
        oldest = (
            "-"
            if s["oldest_event_at"] is None
            else (f"{s['oldest_event_at']} ({s['oldest_event_age_seconds']} s ago)")
        )
        print(
            f"{s['service']} ({s['database']}): {s['pending_documents']} documents, "
            f"{s['pending_events']} events pending; oldest {oldest}; {relay}"
        )
    return 0
