"""Plugins found through entry points, loaded only when named in an allow-list; and the
services of this project, the one list every runner and tool starts from."""

from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Protocol, TypeVar, runtime_checkable

from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:  # kept light: tools read the list of services without the web stack
    from fastapi import FastAPI

    from rinnovo.runtime.service import ServiceRuntime
    from rinnovo.runtime.settings import ServiceSettings

T = TypeVar("T")

SERVICES_GROUP = "rinnovo.services"
SERVICES = ("catalog", "orders", "payments", "notifier", "portal")
"""Every service of the project, in the order a whole system starts them."""


@dataclass(frozen=True)
class BuiltService:
    app: "FastAPI"
    runtime: "ServiceRuntime"
    host: str
    port: int


@runtime_checkable
class ServicePlugin(Protocol):
    """A deployable service; its ``build`` is the service's composition root."""

    name: str
    description: str

    def settings(self) -> "ServiceSettings":
        """The settings ``build`` uses, read from the environment."""
        ...

    def build(self) -> BuiltService: ...


class PluginError(LookupError):
    pass


def load_plugins(group: str, allowed: Iterable[str], protocol: type[T]) -> dict[str, T]:
    """Load the allowed plugins of a group, checking each against its protocol.

    Nothing loads just because it is installed: a name must be allowed, and an allowed name
    that is not installed is an error rather than a silent gap.
    """
    available = {ep.name: ep for ep in entry_points(group=group)}
    loaded: dict[str, T] = {}
    for name in allowed:
        if name not in available:
            known = ", ".join(sorted(available)) or "none"
            raise PluginError(
                f"{group}: {name!r} is allowed but not installed (installed: {known})"
            )
        plugin = available[name].load()
        if not isinstance(plugin, protocol):
            raise PluginError(f"{group}: {name!r} does not satisfy {protocol.__name__}")
        loaded[name] = plugin
    return loaded


class RunnerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RINNOVO_", extra="ignore")

    services: str = ",".join(SERVICES)
    """Comma-separated allow-list of the services this deployment runs."""

    def allowed(self) -> list[str]:
        return [s.strip() for s in self.services.split(",") if s.strip()]


def allowed_services() -> dict[str, ServicePlugin]:
    """The services this deployment may run, loaded from their entry points."""
    allowed = RunnerSettings().allowed()
    return load_plugins(SERVICES_GROUP, allowed, ServicePlugin)  # type: ignore[type-abstract]
