"""A service process started outside development mode with a default secret, a placeholder
key or a development-only allowance exits at once, non-zero, with one line naming the setting.
Nothing is reached first: no Kafka or MongoDB is needed to see it."""

import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

from rinnovo.runtime.cli import EX_CONFIG

GOOD_KEY = "a-deployment-key-of-more-than-32-bytes"
FERNET_KEY = Fernet.generate_key().decode()


def start(service: str, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RINNOVO_")}
    return subprocess.run(
        [sys.executable, "-m", "rinnovo.runtime.cli", "run", service],
        env=env | settings,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("service", ["catalog", "orders", "payments", "notifier"])
def test_every_service_refuses_the_default_auth_key(service: str) -> None:
    run = start(service)
    assert run.returncode == EX_CONFIG, run.stderr
    [line] = run.stderr.splitlines()
    assert line.startswith(f"rinnovo {service}: refusing to start: RINNOVO_AUTH_SECRET: ")
    assert "RINNOVO_DEV_MODE" in line


@pytest.mark.parametrize(
    ("service", "settings", "named"),
    [
        ("catalog", {"RINNOVO_AUTH_SECRET": "short"}, "RINNOVO_AUTH_SECRET"),
        (
            "orders",
            {"RINNOVO_AUTH_SECRET": GOOD_KEY, "KAFKA_SECURITY_PROTOCOL": "SASL_SSL"},
            "KAFKA_SASL_USERNAME",
        ),
        (
            "payments",
            {"RINNOVO_AUTH_SECRET": GOOD_KEY, "RINNOVO_PAYMENTS_METHODS": '["card"]'},
            "RINNOVO_PAYMENTS_STRIPE_API_KEY",
        ),
        (
            "payments",
            {
                "RINNOVO_AUTH_SECRET": GOOD_KEY,
                "RINNOVO_PAYMENTS_METHODS": '["bank_transfer","card"]',
                "RINNOVO_PAYMENTS_STRIPE_API_KEY": "sk_live_x",
                "RINNOVO_PAYMENTS_STRIPE_WEBHOOK_SECRET": "whsec_not_configured",
            },
            "RINNOVO_PAYMENTS_STRIPE_WEBHOOK_SECRET",
        ),
        ("notifier", {"RINNOVO_AUTH_SECRET": GOOD_KEY}, "RINNOVO_NOTIFIER_WEBHOOK_SECRET_KEYS"),
        (
            "notifier",
            {
                "RINNOVO_AUTH_SECRET": GOOD_KEY,
                "RINNOVO_NOTIFIER_WEBHOOK_SECRET_KEYS": f'["{FERNET_KEY}"]',
                "RINNOVO_NOTIFIER_WEBHOOK_ALLOW_LOOPBACK": "true",
            },
            "RINNOVO_NOTIFIER_WEBHOOK_ALLOW_LOOPBACK",
        ),
    ],
)
def test_a_placeholder_or_short_secret_is_named(
    service: str, settings: dict[str, str], named: str
) -> None:
    run = start(service, **settings)
    assert run.returncode == EX_CONFIG, run.stderr
    [line] = run.stderr.splitlines()
    assert line.startswith(f"rinnovo {service}: refusing to start: ")
    assert named in line
