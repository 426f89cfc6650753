"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives, and an e-mail
channel pointed at it."""

import asyncio
import email
import socket
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from rinnovo.notifier.channels.email import EmailChannel, SmtpConfig
from rinnovo.notifier.rendering import Renderer
from rinnovo.notifier.samples import AT
from rinnovo.runtime.clock import FixedClock

GLOBALS = {
    "area_url": "https://area-clienti.example.it",
    "brand": "Area Clienti Fatturazione Elettronica",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Inbox:
    """The server's handler: keeps every accepted message; can answer with an error."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.rcpt_reply: str | None = None
        self.data_reply: str | None = None

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply:
            return self.data_reply
        raw = envelope.original_content or envelope.content
        parsed = email.message_from_bytes(raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 2.0.0 Message accepted for delivery"

    def with_id(self, message_id: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["Message-ID"] == message_id]

    async def wait_for(self, message_id: str, timeout: float = 10.0) -> EmailMessage:
        async with asyncio.timeout(timeout):
            while not (found := self.with_id(message_id)):
                await asyncio.sleep(0.02)
        return found[0]


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


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
