"""The services as separate processes, started the way ``rinnovo run all`` starts them.

For end-to-end tests, fault tests and benchmarks: each service is ``python -m
rinnovo.runtime.cli run NAME`` on a port of its own, with the environment given (the stack's
addresses, a topic prefix, databases, ...), its output appended to ``<log_dir>/<name>.log``.
A service can be killed (SIGKILL, as a crash) and started again; a restarted service keeps
its port, so clients keep their base URL.

A service may run as several replicas (``replicas={"orders": 2}``, or :meth:`add_replica`
while running): each is a process of its own on a port of its own, in the same consumer
group, named ``orders``, ``orders-2``, ``orders-3``... Every method taking a name takes a
replica's; :meth:`url` of a service's name answers with a replica that is ready.
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
        replicas: Mapping[str, int] | None = None,
    ) -> None:
        self.names = tuple(names)
        """The services (not their replicas)."""
        self.log_dir = log_dir
        self.cwd = cwd or Path.cwd()
        self.service_of: dict[str, str] = {}
        """Replica name → its service."""
        self.ports: dict[str, int] = {}
        for name in self.names:
            for _ in range((replicas or {}).get(name, 1)):
                self._new_replica(name)
        self.env = dict(env)
        """What every service process gets; may be added to until it starts."""
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._ready: set[str] = set()

    def _new_replica(self, service: str) -> str:
        count = len(self.replicas(service))
        name = service if count == 0 else f"{service}-{count + 1}"
        taken = set(self.ports.values())
        self.ports[name] = next(p for p in _process.free_ports(len(taken) + 1) if p not in taken)
        self.service_of[name] = service
        return name

    def replicas(self, service: str) -> list[str]:
        """The names of a service's replicas, in the order they were added."""
        return [name for name, of in self.service_of.items() if of == service]

    def add_replica(self, service: str, timeout: float = 120.0) -> str:
        """Start one more replica of a service (scaling out) and wait until it is ready."""
        name = self._new_replica(service)
        self.start(name)
        self.wait_ready(name, timeout)
        return name

    def env_of(self, name: str) -> dict[str, str]:
        prefix = f"RINNOVO_{self.service_of[name].upper()}_"
        return {
            **self.env,
            f"{prefix}HTTP_HOST": HOST,
            f"{prefix}HTTP_PORT": str(self.ports[name]),
        }

    def url(self, name: str) -> str:
        """A replica's address; for a service's own name, the first replica known ready (so
        clients keep working while another is restarted), else the first one."""
        if name in self.names and name not in self._ready:
            name = next((r for r in self.replicas(name) if r in self._ready), name)
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
                [sys.executable, "-m", "rinnovo.runtime.cli", "run", self.service_of[name]],
                cwd=self.cwd,
                output=log,
                env=self.env_of(name),
            )

    def start_all(self) -> None:
        for name in self.service_of:
            self.start(name)

    def ready(self, name: str) -> bool:
        try:
            address = f"http://{HOST}:{self.ports[name]}/health/ready"
            with urllib.request.urlopen(address, timeout=2) as answer:
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
                    self._ready.add(service)
            if waiting and time.monotonic() > deadline:
                raise ServerStartError(self._failure(waiting[0], f"not ready in {timeout:.0f}s"))
            if waiting:
                time.sleep(0.2)

    def kill(self, name: str) -> None:
        """SIGKILL, as a crash: no shutdown code runs."""
        self._ready.discard(name)
        proc = self._procs.pop(name)
        _process.kill(proc)

    def stop(self, name: str, timeout: float = 20.0) -> None:
        """SIGTERM, as an orderly shutdown."""
        self._ready.discard(name)
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
