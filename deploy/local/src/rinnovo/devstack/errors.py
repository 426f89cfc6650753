"""Errors raised by the local dev stack."""

from __future__ import annotations


class DevStackError(RuntimeError):
    """Base class of the errors of ``rinnovo.devstack``."""


class ToolMissingError(DevStackError):
    """A tool needed to install a server (java, mvn, go) is not on the PATH."""


class InstallError(DevStackError):
    """Downloading or building a server failed."""


class ServerStartError(DevStackError):
    """A server process exited or did not become ready in time."""
