"""What a deployment must give each service, derived from the code, never listed by hand.

The services are the installed ``rinnovo.services`` plugins. What each needs is read from
the settings classes it is built with (those of its composition root, and the shared ones
of ``rinnovo.runtime``): a setting is needed when it has no default, when it is marked
``json_schema_extra={"required_in_production": True}``, when it is a secret with a built-in
(so development-only) value, or when its default only makes sense on a developer's machine
(a loopback address). Produced and consumed topics are read from the built services.
"""

import importlib
import os
import pkgutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from pydantic import SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

import rinnovo.runtime
from rinnovo.runtime.plugins import SERVICES_GROUP
from rinnovo.runtime.safety import DEV_MODE_ENV
from rinnovo.runtime.settings import ServiceSettings

LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


@dataclass(frozen=True)
class Need:
    variable: str
    secret: bool
    why: str
    is_list: bool = False
    """Set as a JSON list (keys for rotation)."""


def services() -> list[str]:
    return sorted(ep.name for ep in entry_points(group=SERVICES_GROUP))


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def shared_settings() -> list[type[BaseSettings]]:
    """The settings classes of ``rinnovo.runtime`` that every service reads (not its own)."""
    for module in pkgutil.iter_modules(rinnovo.runtime.__path__, "rinnovo.runtime."):
        importlib.import_module(module.name)
    return [
        cls
        for cls in _subclasses(BaseSettings)
        if cls.__module__.startswith("rinnovo.runtime.")
        and not issubclass(cls, ServiceSettings)
        and cls.__name__ != "RunnerSettings"  # read by `rinnovo run all` only
    ]


def service_settings(service: str) -> list[type[BaseSettings]]:
    """The settings classes the service's composition root is built with."""
    [ep] = [ep for ep in entry_points(group=SERVICES_GROUP) if ep.name == service]
    module = importlib.import_module(ep.module)
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, ServiceSettings)
        and value is not ServiceSettings
    ]


def needs_of(cls: type[BaseSettings]) -> list[Need]:
    prefix = str(cls.model_config.get("env_prefix", "")).upper()
    found = []
    for name, field in cls.model_fields.items():
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseSettings):
            continue  # nested settings read their own variables (InfraSettings)
        why = _why(field)
        if why:
            is_list = getattr(field.annotation, "__origin__", None) is list
            found.append(Need(prefix + name.upper(), _is_secret(field), why, is_list))
    return found


def _is_secret(field: FieldInfo) -> bool:
    """A ``SecretStr``, optional or not, or a list or mapping of them (keys for rotation)."""
    annotation: Any = field.annotation
    return annotation is SecretStr or any(
        _is_secret(FieldInfo(annotation=arg)) for arg in getattr(annotation, "__args__", ())
    )


def _why(field: FieldInfo) -> str:
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    if field.is_required():
        return "no default"
    if extra.get("required_in_production"):
        return "required outside development mode"
    default = field.get_default(call_default_factory=True)
    if isinstance(default, SecretStr):
        return "a secret whose built-in value is for development only"
    if isinstance(default, str) and any(host in default for host in LOOPBACK):
        return f"its default {default!r} is this machine"
    return ""


@cache
def needs(service: str) -> tuple[Need, ...]:
    found: dict[str, Need] = {}
    for cls in [*shared_settings(), *service_settings(service)]:
        for need in needs_of(cls):
            found.setdefault(need.variable, need)
    return tuple(found.values())


@dataclass(frozen=True)
class Topics:
    produced: frozenset[str]
    consumed: frozenset[str]


@contextmanager
def development_mode() -> Iterator[None]:
    before = os.environ.get(DEV_MODE_ENV)
    os.environ[DEV_MODE_ENV] = "true"
    try:
        yield
    finally:
        if before is None:
            del os.environ[DEV_MODE_ENV]
        else:
            os.environ[DEV_MODE_ENV] = before


@cache
def topics_of(service: str) -> Topics:
    """What the built service publishes and subscribes to (built, not started), as its
    AsyncAPI document declares them: its consumer is made only when it starts."""
    [ep] = [ep for ep in entry_points(group=SERVICES_GROUP) if ep.name == service]
    with development_mode():  # built to be read, never run: its default secrets do
        broker = ep.load().build().runtime.specification
    return Topics(
        produced=frozenset(p.topic for p in broker.publishers),
        consumed=frozenset(t.name for s in broker.subscribers for t in s.topics),
    )
