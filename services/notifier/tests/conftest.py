"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives, an e-mail
channel pointed at it, and the whole notifier on in-memory stores with that channel
(``rinnovo.testing.notifier``)."""

from collections.abc import AsyncIterator, Iterator

import pytest

from rinnovo.notifier.channels.email import EmailChannel, SmtpConfig
from rinnovo.notifier.rendering import Renderer
from rinnovo.runtime.clock import FixedClock
from rinnovo.testing.notifier import Notifier, in_memory
from rinnovo.testing.notifier_samples import AT
from rinnovo.testing.smtp import Inbox, SmtpServer, free_port

GLOBALS = {
    "area_url": "https://area-clienti.example.it",
    "brand": "Area Clienti Fatturazione Elettronica",
}


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


def smtp_config(port: int) -> SmtpConfig:
    return SmtpConfig(
        host="127.0.0.1",
        port=port,
        starttls=False,
        tls=False,
        validate_certs=True,
        username=None,
        password=None,
        timeout_seconds=5.0,
        mail_from="Area Clienti <noreply@example.it>",
        reply_to=None,
        message_id_domain="notifier.example.it",
    )


@pytest.fixture
def renderer() -> Renderer:
    return Renderer(GLOBALS)


@pytest.fixture
def email_channel(smtp_server: SmtpServer, renderer: Renderer) -> EmailChannel:
    return EmailChannel(smtp_config(smtp_server.port), renderer, FixedClock(AT))


@pytest.fixture
def inbox(smtp_server: SmtpServer) -> Iterator[Inbox]:
    """The server's inbox; whatever refusal a test sets up is lifted after it."""
    yield smtp_server.inbox
    smtp_server.inbox.rcpt_reply = smtp_server.inbox.data_reply = None


@pytest.fixture
def email_channel_to_nowhere(renderer: Renderer) -> EmailChannel:
    """Pointed at a port where no server listens."""
    return EmailChannel(smtp_config(free_port()), renderer, FixedClock(AT))


@pytest.fixture
async def notifier(
    smtp_server: SmtpServer, inbox: Inbox, renderer: Renderer
) -> AsyncIterator[Notifier]:
    clock = FixedClock(AT)
    inbox.messages.clear()
    built = in_memory(clock, EmailChannel(smtp_config(smtp_server.port), renderer, clock))
    yield built
    await built.ctx.channels["webhook"].close()
