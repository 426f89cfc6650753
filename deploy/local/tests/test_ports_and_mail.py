"""`up`'s usual ports, and the mail catcher of development mode. No Kafka or FerretDB."""

import argparse
import logging
import smtplib
import socket
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from pathlib import Path

import pytest

from rinnovo.devstack import _process, cli
from rinnovo.devstack.mail import MailCatcher


def test_the_usual_port_when_free_else_a_free_one_said_in_one_line(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    (free,) = _process.free_ports(1)
    assert cli._port(None, free, "Kafka", "KAFKA_BOOTSTRAP_SERVERS") == free
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with caplog.at_level(logging.INFO, logger="rinnovo.devstack"):
            assert cli._port(None, port, "Kafka", "KAFKA_BOOTSTRAP_SERVERS") is None
    assert f"port {port} is taken: Kafka listens on a free port instead" in caplog.text
    assert cli._port(4242, port, "Kafka", "KAFKA_BOOTSTRAP_SERVERS") == 4242


def test_an_external_server_needs_no_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONGODB_URL", "mongodb://mongo.example:27017/")
    assert cli._port(None, 27017, "MongoDB", "MONGODB_URL") is None


def test_the_catcher_keeps_each_message_as_it_came(tmp_path: Path) -> None:
    message = EmailMessage()
    message["From"] = "Area Clienti <noreply@example.it>"
    message["To"] = "anna@example.it"
    message["Subject"] = "Il servizio è scaduto"
    message.set_content("Riattivalo entro il 30/04/2027.")
    with MailCatcher(tmp_path / "mail") as catcher:
        env = catcher.notifier_env()
        assert env["RINNOVO_NOTIFIER_SMTP_STARTTLS"] == "false"
        with smtplib.SMTP(env["RINNOVO_NOTIFIER_SMTP_HOST"], catcher.port) as smtp:
            smtp.send_message(message)
            smtp.send_message(message)
    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 2 and files[0].name < files[1].name
    kept = BytesParser(policy=default).parsebytes(files[0].read_bytes())
    assert kept["Subject"] == "Il servizio è scaduto"
    assert kept.get_content().strip() == "Riattivalo entro il 30/04/2027."


def test_development_mode_starts_the_catcher_unless_told_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def args(*extra: str) -> argparse.Namespace:
        return cli._parser().parse_args(["up", *extra])

    monkeypatch.delenv("RINNOVO_DEV_MODE", raising=False)
    monkeypatch.delenv("RINNOVO_NOTIFIER_SMTP_HOST", raising=False)
    catcher = cli._mail_catcher(args(), tmp_path)
    assert catcher is not None and catcher.folder == tmp_path / "mail"
    assert cli._mail_catcher(args("--no-mail"), tmp_path) is None
    monkeypatch.setenv("RINNOVO_NOTIFIER_SMTP_HOST", "smtp.example.it")
    assert cli._mail_catcher(args(), tmp_path) is None
    monkeypatch.delenv("RINNOVO_NOTIFIER_SMTP_HOST")
    monkeypatch.setenv("RINNOVO_DEV_MODE", "false")
    assert cli._mail_catcher(args(), tmp_path) is None
