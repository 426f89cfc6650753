"""A local mail catcher for development: an SMTP server that delivers nothing.

Every message the notifier sends to it is kept as a ``.eml`` file in a folder, named by the
time it arrived, exactly as it came over the wire: open it with any mail client, or read it.
Plain SMTP on the loopback address, no login and no TLS, like the catchers developers know
(MailHog, Mailpit); it listens on 1025, their port, when that is free.
"""

from __future__ import annotations

import itertools
import logging
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from rinnovo.devstack import _process

log = logging.getLogger("rinnovo.devstack")

CONVENTIONAL_PORT = 1025


class _Keep:
    """aiosmtpd's handler: each message accepted is written to the folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._numbers = itertools.count(1)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        path = self.folder / f"{stamp}-{next(self._numbers):04d}.eml"
        content = envelope.original_content or b""
        path.write_bytes(content if content.endswith(b"\n") else content + b"\r\n")
        log.debug("mail to %s kept in %s", ", ".join(envelope.rcpt_tos), path)
        return "250 Message accepted for delivery"


class MailCatcher:
    """``host:port`` takes mail and keeps each message in ``folder`` (created if missing)."""

    def __init__(self, folder: Path, *, port: int | None = None, host: str = "127.0.0.1") -> None:
        self.folder = folder
        self.host = host
        self._port = port
        self._controller: Controller | None = None

    @property
    def port(self) -> int:
        if self._controller is None:
            raise RuntimeError("the mail catcher is not started")
        return int(self._controller.port)

    def notifier_env(self) -> dict[str, str]:
        """What points the notifier at this catcher: plain SMTP, no STARTTLS, no login."""
        return {
            "RINNOVO_NOTIFIER_SMTP_HOST": self.host,
            "RINNOVO_NOTIFIER_SMTP_PORT": str(self.port),
            "RINNOVO_NOTIFIER_SMTP_STARTTLS": "false",
            "RINNOVO_NOTIFIER_SMTP_TLS": "false",
        }

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        port = self._port or _process.free_ports(1, self.host)[0]
        controller = Controller(_Keep(self.folder), hostname=self.host, port=port)
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where: Any = self._controller.port if self._controller else "-"
        return f"<MailCatcher {self.host}:{where} folder={self.folder}>"
