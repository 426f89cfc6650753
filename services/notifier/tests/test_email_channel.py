"""SMTP outcomes on a real server: accepted, refused for good (5xx), deferred (4xx), down."""

from typing import Any

from rinnovo.notifier.channels.base import Delivery
from rinnovo.notifier.channels.email import EmailChannel
from rinnovo.notifier.domain.delivery import Refused, RetryLater, Sent
from rinnovo.notifier.domain.notifications import Audience, Target


def delivery(nid: str = "n-1", attempt: int = 1) -> Delivery:
    return Delivery(
        notification_id=nid,
        template="service_deactivated",
        target=Target("", "rossi@example.it", Audience.CUSTOMER),
        recipient_name="Studio Rossi",
        locale="it",
        content={"subject": "Oggetto è", "text": "Testo €\n", "html": "<p>Testo €</p>\n"},
        attempt=attempt,
    )


async def test_an_accepted_message_carries_a_message_id_derived_from_its_notification(
    email_channel: EmailChannel, inbox: Any
) -> None:
    assert isinstance(await email_channel.send(delivery("n-accepted")), Sent)
    assert isinstance(await email_channel.send(delivery("n-accepted", attempt=2)), Sent)
    both = inbox.with_id("<n-accepted@notifier.example.it>")
    assert len(both) == 2  # a resend is recognisable as the same message
    assert both[0]["Subject"] == "Oggetto è"
    assert both[0]["X-Rinnovo-Notification"] == "n-accepted"


async def test_a_permanent_refusal_is_refused(email_channel: EmailChannel, inbox: Any) -> None:
    inbox.rcpt_reply = "550 5.1.1 No such user"
    outcome = await email_channel.send(delivery())
    assert isinstance(outcome, Refused)
    assert outcome.status_code == 550
    assert "No such user" in outcome.reason


async def test_a_temporary_refusal_is_tried_later(email_channel: EmailChannel, inbox: Any) -> None:
    inbox.data_reply = "451 4.3.0 Try again later"
    outcome = await email_channel.send(delivery())
    assert isinstance(outcome, RetryLater)
    assert outcome.status_code == 451


async def test_a_server_that_is_down_is_tried_later(email_channel_to_nowhere: EmailChannel) -> None:
    outcome = await email_channel_to_nowhere.send(delivery())
    assert isinstance(outcome, RetryLater)
    assert outcome.status_code is None
