"""A notification's identity comes from its cause, so the same cause can never make two."""

import uuid

NAMESPACE = uuid.UUID("6f1c2a9e-0b57-4d3e-9a1f-5c8e7d2b4a10")


def notification_id(cause_event_id: str, channel: str, template: str, target: str = "") -> str:
    """One id per (cause event, channel, template, target): a redelivered event yields the
    same id, and the store refuses a second document with it. ``target`` tells apart the
    deliveries of one channel to several addressees (webhook endpoints); e-mail has one."""
    parts = [cause_event_id, channel, template] + ([target] if target else [])
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def message_id(notification: str, domain: str) -> str:
    """The e-mail ``Message-ID``: the same on every attempt, so a message sent again after a
    crash can be recognised as a duplicate by the receiving servers and mail clients."""
    return f"<{notification}@{domain}>"
