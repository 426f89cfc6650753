"""The services as separate processes, started the way ``rinnovo run all`` starts them.

For end-to-end tests, fault tests and benchmarks: each service is ``python -m
rinnovo.runtime.cli run NAME`` on a port of its own, with the environment given (the stack's
addresses, a topic prefix, databases, ...), its output appended to ``<log_dir>/<name>.log``.
A service can be killed (SIGKILL, as a crash) and started again; a restarted service keeps
its port, so clients keep their base URL.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Self

from rinnovo.devstack import _process
from rinnovo.devstack.errors import ServerStartError
from rinnovo.runtime.plugins import SERVICES

HOST = "127.0.0.1"


class ServiceProcesses:
    def __init__(
        self,
        env: Mapping[str, str],
        log_dir: Path,
        names: Iterable[str] = SERVICES,
        *,
        cwd: Path | None = None,
    ) -> None:
        self.names = tuple(names)
        self.log_dir = log_dir
        self.cwd = cwd or Path.cwd()
        self.ports = dict(zip(self.names, _process.free_ports(len(self.names)), strict=True))
        self.env = dict(env)
        """What every service process gets; may be added to until it starts."""
        self._procs: dict[str, subprocess.Popen[bytes]] = {}

    def env_of(self, name: str) -> dict[str, str]:
        prefix = f"RINNOVO_{name.upper()}_"
        return {
            **self.env,
            f"{prefix}HTTP_HOST": HOST,
            f"{prefix}HTTP_PORT": str(self.ports[name]),
        }

    def url(self, name: str) -> str:
        return f"http://{HOST}:{self.ports[name]}"

    def pid(self, name: str) -> int:
        return self._procs[name].pid

    def is_running(self, name: str) -> bool:
        proc = self._procs.get(name)
        return proc is not None and proc.poll() is None

    def start(self, name: str) -> None:
        if self.is_running(name):
            return
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with (self.log_dir / f"{name}.log").open("ab") as log:
            self._procs[name] = _process.spawn(
                [sys.executable, "-m", "rinnovo.runtime.cli", "run", name],
                cwd=self.cwd,
                output=log,
                env=self.env_of(name),
            )

    def start_all(self) -> None:
        for name in self.names:
            self.start(name)

    def ready(self, name: str) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url(name)}/health/ready", timeout=2) as answer:
                return int(answer.status) == 200
        except (OSError, urllib.error.URLError):
            return False

    def wait_ready(self, name: str | None = None, timeout: float = 120.0) -> None:
        """Until each named service (default: all started) answers ready; fail with its log."""
        waiting = [name] if name else list(self._procs)
        deadline = time.monotonic() + timeout
        while waiting:
            for service in list(waiting):
                proc = self._procs[service]
                if proc.poll() is not None:
                    raise ServerStartError(self._failure(service, f"exited with {proc.returncode}"))
                if self.ready(service):
                    waiting.remove(service)
            if waiting and time.monotonic() > deadline:
                raise ServerStartError(self._failure(waiting[0], f"not ready in {timeout:.0f}s"))
            if waiting:
                time.sleep(0.2)

    def kill(self, name: str) -> None:
        """SIGKILL, as a crash: no shutdown code runs."""
        proc = self._procs.pop(name)
        _process.kill(proc)

    def stop(self, name: str, timeout: float = 20.0) -> None:
        """SIGTERM, as an orderly shutdown."""
        proc = self._procs.pop(name)
        _process.terminate(proc, timeout)

    def restart(self, name: str, timeout: float = 120.0) -> None:
        self.kill(name)
        self.start(name)
        self.wait_ready(name, timeout)

    def stop_all(self) -> None:
        for name in list(self._procs):
            self.stop(name)

    def log(self, name: str, lines: int = 60) -> str:
        return _process.tail(self.log_dir / f"{name}.log", lines)

    def _failure(self, name: str, what: str) -> str:
        return f"service {name} {what}; its log ends with:\n{self.log(name)}"

    def __enter__(self) -> Self:
        self.start_all()
        try:
            self.wait_ready()
        except BaseException:
            self.stop_all()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop_all()


__all__ = ["SERVICES", "ServiceProcesses"]
