"""SMTP outcomes on a real server: accepted, refused for good (5xx), deferred (4xx), down;
and headers that read, once unfolded and decoded, exactly as they were recorded."""

import re
from dataclasses import replace
from email import message_from_bytes
from email.header import decode_header, make_header
from email.policy import default
from typing import Any

import pytest
from aiosmtplib.email import flatten_message
from hypothesis import given, settings
from hypothesis import strategies as st

from rinnovo.notifier.channels.base import Delivery
from rinnovo.notifier.channels.email import EmailChannel, SmtpConfig, build_message
from rinnovo.notifier.domain.delivery import Refused, RetryLater, Sent
from rinnovo.notifier.domain.notifications import Audience, Target
from rinnovo.runtime.clock import FixedClock
from rinnovo.testing.notifier_samples import AT

CLOCK = FixedClock(AT)


def delivery(
    nid: str = "n-1",
    attempt: int = 1,
    subject: str = "Oggetto è",
    recipient_name: str = "Studio Rossi",
) -> Delivery:
    return Delivery(
        notification_id=nid,
        template="service_deactivated",
        target=Target("", "rossi@example.it", Audience.CUSTOMER),
        recipient_name=recipient_name,
        locale="it",
        content={"subject": subject, "text": "Testo €\n", "html": "<p>Testo €</p>\n"},
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


def header_on_the_wire(raw: bytes, name: str) -> tuple[list[bytes], str]:
    """A header's lines as sent, and its value unfolded (RFC 5322: a line break followed by
    white space is removed, nothing else) and decoded (RFC 2047), by the standard library's
    decoder of encoded words rather than the parser the message was read with."""
    head = raw.split(b"\r\n\r\n", 1)[0]
    found = re.search(rb"^" + name.encode() + rb":(.*?)\r\n(?![ \t])", head, re.M | re.S)
    assert found is not None, f"no {name} in {head!r}"
    unfolded = re.sub(rb"\r\n(?=[ \t])", b"", found.group(1)).decode("ascii").lstrip(" \t")
    return found.group(0).split(b"\r\n")[:-1], str(make_header(decode_header(unfolded)))


SUBJECTS = [
    # A fold falling just before a non-ASCII word once doubled the space before it.
    "Pagamento registrato: l'upgrade di 12345678901234@aruba.it è attivo",
    "Rinnovo automatico di 12345678@example.it: addebito di 140,30 € il 10/01/2027",
    "Il servizio 98765432@example.it è scaduto: puoi riattivarlo entro il 30/05/2027 "
    "con la stessa procedura, senza perdere nessun giorno già pagato. Più è già più.",
    "Your service 98765432@example.it expires in 30 days (10/01/2027)",
    # Too long for the first line: once moved whole to the next, read with a leading space.
    "Reactivation completed: 98765432@example.it is active until 31/03/2027",
]


@pytest.mark.parametrize("subject", SUBJECTS)
async def test_the_subject_received_is_the_one_recorded(
    email_channel: EmailChannel, inbox: Any, subject: str
) -> None:
    nid = f"n-subject-{SUBJECTS.index(subject)}"
    assert isinstance(await email_channel.send(delivery(nid, subject=subject)), Sent)
    [raw] = [r for r, m in zip(inbox.raw, inbox.messages, strict=True) if nid in m["Message-ID"]]
    lines, decoded = header_on_the_wire(raw, "Subject")
    assert decoded == subject
    assert all(len(line) <= 78 for line in lines)  # folded as RFC 5322 asks
    [received] = inbox.with_id(f"<{nid}@notifier.example.it>")
    assert str(received["Subject"]) == subject  # as a mail client's parser reads it


async def test_the_addressee_received_is_the_one_recorded(
    email_channel: EmailChannel, inbox: Any
) -> None:
    name = "Studio Associato Commercialisti Rossi Bianchi e Verdi di Forlì è Cesena"
    assert isinstance(await email_channel.send(delivery("n-to", recipient_name=name)), Sent)
    [raw] = [
        r for r, m in zip(inbox.raw, inbox.messages, strict=True) if "n-to@" in m["Message-ID"]
    ]
    lines, decoded = header_on_the_wire(raw, "To")
    assert decoded == f"{name} <rossi@example.it>"
    assert all(len(line) <= 78 for line in lines)
    # Python 3.11's own address parser keeps the space between two encoded words of a
    # display name (python/cpython#128110, against RFC 2047 6.2): only the address is
    # compared through it.
    [received] = inbox.with_id("<n-to@notifier.example.it>")
    assert [a.addr_spec for a in received["To"].addresses] == ["rossi@example.it"]


headers_text = (
    st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=300)
    .map(lambda s: " ".join(s.split()))
    .filter(bool)
)


@settings(deadline=None, max_examples=200)
@given(subject=headers_text, name=headers_text)
def test_any_subject_and_name_survive_folding(
    any_smtp_config: SmtpConfig, subject: str, name: str
) -> None:
    """Whatever a template renders: the bytes ``aiosmtplib`` puts on the wire, read back."""
    message = build_message(any_smtp_config, delivery(subject=subject, recipient_name=name), CLOCK)
    raw = flatten_message(message)
    lines, decoded = header_on_the_wire(raw, "Subject")
    assert decoded == subject
    if not subject.isascii():  # encoded words can always be folded; a long ASCII word not
        assert all(len(line) <= 78 for line in lines)
    assert str(message_from_bytes(raw, policy=default)["Subject"]) == subject
    if not name.isascii():
        lines, decoded = header_on_the_wire(raw, "To")
        assert decoded == f"{name} <rossi@example.it>"


def test_what_every_message_repeats_is_parsed_once_and_shared(
    any_smtp_config: SmtpConfig,
) -> None:
    first = build_message(any_smtp_config, delivery("n-first"), CLOCK)
    second = build_message(any_smtp_config, delivery("n-second", recipient_name="Bianchi"), CLOCK)
    assert first["From"] is second["From"]
    assert first.get_body(("plain",))["Content-Type"] is second.get_body(("plain",))["Content-Type"]
    assert first["To"] is not second["To"]
    assert first.get_boundary() == "=_n-first" != second.get_boundary()


def test_a_shared_header_is_folded_for_each_policy_it_is_sent_with(
    any_smtp_config: SmtpConfig,
) -> None:
    """A sender's name that is not ASCII: encoded words on a 7-bit path, as it is with
    SMTPUTF8; the form remembered for one is never sent with the other."""
    config = replace(any_smtp_config, mail_from="Fatturazione Più <noreply@example.it>")
    for utf8 in (False, True, False):
        raw = flatten_message(build_message(config, delivery(), CLOCK), utf8=utf8)
        if utf8:
            assert raw.startswith(b"From: Fatturazione Pi\xc3\xb9 <noreply@example.it>\r\n")
        else:
            _lines, decoded = header_on_the_wire(raw, "From")
            assert decoded == "Fatturazione Più <noreply@example.it>"
