"""Every message in both languages, sent through a real SMTP server and read back, against
its golden file, byte for byte.

After a deliberate change of a template, regenerate the golden files and review the diff:

    RINNOVO_UPDATE_GOLDEN=1 uv run pytest services/notifier/tests/test_templates_golden.py
"""

import os
import re
from email.message import EmailMessage
from pathlib import Path

import pytest

from rinnovo.notifier.channels.base import Delivery
from rinnovo.notifier.channels.email import EmailChannel
from rinnovo.notifier.domain.compose import compose
from rinnovo.notifier.domain.delivery import Sent
from rinnovo.notifier.domain.identity import message_id, notification_id
from rinnovo.notifier.domain.locales import SUPPORTED
from rinnovo.testing.notifier_samples import TOTAL, samples

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("RINNOVO_UPDATE_GOLDEN") == "1"
CASES = [(locale, s.name) for locale in SUPPORTED for s in samples(locale)]


def as_golden(received: EmailMessage) -> str:
    """What a reader sees: subject, addressee, language, and both bodies decoded."""
    plain = received.get_body(preferencelist=("plain",))
    html = received.get_body(preferencelist=("html",))
    assert isinstance(plain, EmailMessage) and isinstance(html, EmailMessage)
    return "".join(
        [
            f"Subject: {received['Subject']}\n",
            f"To: {received['To']}\n",
            f"Content-Language: {received['Content-Language']}\n",
            "\n----- text/plain -----\n",
            plain.get_content().replace("\r\n", "\n"),
            "----- text/html -----\n",
            html.get_content().replace("\r\n", "\n"),
        ]
    )


@pytest.mark.parametrize(("locale", "name"), CASES, ids=[f"{loc}-{n}" for loc, n in CASES])
async def test_every_message_reads_as_its_golden_file(
    locale: str, name: str, email_channel: EmailChannel, smtp_server: object
) -> None:
    sample = next(s for s in samples(locale) if s.name == name)
    message = compose(sample.event, order=sample.order)
    assert message is not None
    nid = notification_id(message.cause.event_id, "email", message.template.value)
    [target] = await email_channel.targets(message)
    content = email_channel.prepare(message, nid, target)
    delivery = Delivery(
        nid, message.template.value, target, message.recipient.name, locale, content, 1
    )

    outcome = await email_channel.send(delivery)

    assert isinstance(outcome, Sent), outcome
    received = await smtp_server.inbox.wait_for(message_id(nid, "notifier.example.it"))  # type: ignore[attr-defined]
    assert received.get_content_type() == "multipart/alternative"
    assert received["Auto-Submitted"] == "auto-generated"
    shown = as_golden(received)
    # Never a None, raw cents or an ISO date in front of a customer, in either body.
    assert "None" not in shown, shown
    assert str(TOTAL) not in shown
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", shown)
    golden = GOLDEN / locale / f"{name}.txt"
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(shown)
    assert golden.exists(), f"no golden file {golden}; see this module's docstring"
    assert shown == golden.read_text()


def test_every_golden_file_has_a_sample() -> None:
    files = {(p.parent.name, p.stem) for p in GOLDEN.glob("*/*.txt")}
    assert files == set(CASES)
