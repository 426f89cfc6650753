"""Endpoints' signing secrets at rest: sealed with Fernet (cryptography) under keys from the
settings, so a copy of the database or a backup signs nothing. Several keys rotate: the
first seals, each opens; re-registering an endpoint seals its secret under the first."""

from collections.abc import Sequence

from cryptography.fernet import Fernet, MultiFernet
from pydantic import SecretStr

from rinnovo.runtime.safety import DEV_MODE_ENV, InsecureSetting

SETTING = "RINNOVO_NOTIFIER_WEBHOOK_SECRET_KEYS"
DEV_KEY = SecretStr("ZGV2LW9ubHktd2ViaG9vay1zZWNyZXRzLWtleS0zMmI=")
"""Public, so development mode only."""


class SecretBox:
    def __init__(self, keys: Sequence[SecretStr]) -> None:
        try:
            self._fernet = MultiFernet([Fernet(k.get_secret_value()) for k in keys])
        except ValueError as exc:
            raise InsecureSetting(SETTING, "each key must be a Fernet key") from exc

    @classmethod
    def from_settings(cls, keys: Sequence[SecretStr], dev_mode: bool) -> "SecretBox":
        """Raises ``InsecureSetting`` outside development mode without a key of one's own."""
        if dev_mode and not keys:
            return cls([DEV_KEY])
        if not keys:
            raise InsecureSetting(SETTING, f"not set (or set {DEV_MODE_ENV})")
        if any(k.get_secret_value() == DEV_KEY.get_secret_value() for k in keys) and not dev_mode:
            raise InsecureSetting(SETTING, "holds the public development key")
        return cls(keys)

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        """Raises ``cryptography.fernet.InvalidToken`` if no key opens it."""
        return self._fernet.decrypt(sealed.encode()).decode()
