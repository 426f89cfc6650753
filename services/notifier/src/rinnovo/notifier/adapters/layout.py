"""How a notification is kept in its document, whatever store keeps it: its fields at the
top level (queries and indexes read them), its attempts in ``history``, and the instant of
its next attempt, which the delivery loops find due work by."""

from collections.abc import Mapping
from typing import Any

from rinnovo.notifier.domain.delivery import Status
from rinnovo.notifier.domain.notifications import Attempt, Audience, Notification, Target
from rinnovo.runtime.changes import Schedule

NEXT_ATTEMPT = "next_attempt_at"


def _attempt(a: Attempt) -> dict[str, Any]:
    return {
        "number": a.number,
        "at": a.at,
        "outcome": a.outcome,
        "detail": a.detail,
        "status_code": a.status_code,
    }


class NotificationCodec:
    def encode(self, n: Notification) -> dict[str, Any]:
        return {
            "notification_id": n.notification_id,
            "channel": n.channel,
            "template": n.template,
            "audience": n.audience.value,
            "customer_id": n.customer_id,
            "locale": n.locale,
            "requested_locale": n.requested_locale,
            "target": {"key": n.target.key, "address": n.target.address},
            "recipient_name": n.recipient_name,
            "cause": {
                "event_id": n.cause_event_id,
                "type": n.cause_type,
                "aggregate_id": n.cause_aggregate_id,
                "occurred_at": n.cause_occurred_at,
                "correlation_id": n.correlation_id,
            },
            "facts": dict(n.facts),
            "content": dict(n.content),
            "created_at": n.created_at,
            "status": n.status.value,
            "attempts": n.attempts,
            NEXT_ATTEMPT: n.next_attempt_at,
            "sent_at": n.sent_at,
            "failed_at": n.failed_at,
            "last_error": n.last_error,
            "history": [_attempt(a) for a in n.history],
        }

    def decode(self, doc: Mapping[str, Any]) -> Notification:
        cause = doc["cause"]
        audience = Audience(doc["audience"])
        return Notification(
            notification_id=doc["notification_id"],
            channel=doc["channel"],
            template=doc["template"],
            audience=audience,
            customer_id=doc["customer_id"],
            locale=doc["locale"],
            requested_locale=doc["requested_locale"],
            target=Target(doc["target"]["key"], doc["target"]["address"], audience),
            recipient_name=doc["recipient_name"],
            cause_event_id=cause["event_id"],
            cause_type=cause["type"],
            cause_aggregate_id=cause["aggregate_id"],
            cause_occurred_at=cause["occurred_at"],
            correlation_id=cause["correlation_id"],
            facts=doc["facts"],
            content=doc["content"],
            created_at=doc["created_at"],
            status=Status(doc["status"]),
            attempts=doc["attempts"],
            next_attempt_at=doc.get(NEXT_ATTEMPT),
            sent_at=doc.get("sent_at"),
            failed_at=doc.get("failed_at"),
            last_error=doc.get("last_error"),
            history=tuple(
                Attempt(
                    h["number"], h["at"], h["outcome"], h.get("detail", ""), h.get("status_code")
                )
                for h in doc.get("history", ())
            ),
        )


NOTIFICATIONS = NotificationCodec()
SCHEDULE: Schedule[Notification] = Schedule(lambda n: n.next_attempt_at, NEXT_ATTEMPT)
"""A pending notification's next attempt; none once it is sent or failed."""
