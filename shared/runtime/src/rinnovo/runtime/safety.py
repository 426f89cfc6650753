"""Settings that only development may use: outside it, a service refuses to start.

Development mode is one explicit switch shared by every service, ``RINNOVO_DEV_MODE=true``:
``make run`` and the tests turn it on, nothing else does. Without it, a public default
secret, a short key or a development-only allowance stops the service before it serves
anything, with one line naming the setting.
"""

DEV_MODE_ENV = "RINNOVO_DEV_MODE"


class InsecureSetting(Exception):
    """A setting a deployment must change before this service may start."""

    def __init__(self, setting: str, reason: str) -> None:
        super().__init__(f"{setting}: {reason}")
        self.setting = setting
        self.reason = reason


def dev_mode_only(setting: str, enabled: bool, dev_mode: bool) -> None:
    """Refuse an allowance meant for development and tests when not in development mode."""
    if enabled and not dev_mode:
        raise InsecureSetting(setting, f"is for development and tests only ({DEV_MODE_ENV})")
