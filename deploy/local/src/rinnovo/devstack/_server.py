"""Lifecycle shared by the local servers: install, start, wait_ready, stop, restart."""

from __future__ import annotations

import abc
import asyncio
import atexit
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Self, TypeVar

from rinnovo.devstack import _process
from rinnovo.devstack._paths import cache_dir, file_lock
from rinnovo.devstack.errors import DevStackError, ServerStartError

log = logging.getLogger("rinnovo.devstack")

T = TypeVar("T")

_MARKER = ".rinnovo-installed"

_running: set[ManagedServer] = set()


@atexit.register
def _stop_all_at_exit() -> None:
    for server in list(_running):
        try:
            server.stop(timeout=10.0)
        except Exception:  # pragma: no cover - best effort at interpreter exit
            log.exception("could not stop %s at exit", server)


def cached_install(target: Path, digest: str, build: Callable[[Path], None], *, what: str) -> Path:
    """Make ``target`` hold what ``build`` produces for ``digest``, once.

    ``build(tmp)`` fills a fresh temporary directory next to ``target``, which is then renamed
    into place with a marker holding ``digest``. A file lock keeps concurrent processes from
    building at the same time; whoever waits reuses the result.
    """
    marker = target / _MARKER

    def done() -> bool:
        try:
            return marker.read_text().strip() == digest
        except OSError:
            return False

    if done():
        return target
    with file_lock(
        cache_dir() / "locks" / f"{target.name}.lock",
        waiting_message=f"waiting for another process installing {what}",
    ):
        if done():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        log.info("installing %s into %s (first use, this takes a while)", what, target)
        started = time.monotonic()
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            build(tmp)
            (tmp / _MARKER).write_text(digest + "\n")
            tmp.chmod(0o755)
            if target.exists():
                shutil.rmtree(target)
            tmp.rename(target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        log.info("installed %s in %.1fs", what, time.monotonic() - started)
    return target


def run_coroutine_blocking(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion from synchronous code, even inside a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(factory()))
        except BaseException as exc:
            error.append(exc)

    thread = threading.Thread(target=target, name="rinnovo-devstack-probe", daemon=True)
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


class ManagedServer(abc.ABC):
    """A server process run from the cache, with its data in ``data_dir``.

    Ports are chosen once (at the first ``start()``, unless given) and kept, so ``restart()``
    brings the server back on the same address with the same data.
    """

    name: ClassVar[str]

    def __init__(
        self,
        data_dir: Path | str,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        stop_timeout: float = 30.0,
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.host = host
        self.stop_timeout = stop_timeout
        self._port = port
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.RLock()

    # -- to be provided by each server -------------------------------------------------

    @abc.abstractmethod
    def install(self) -> None:
        """Download/build the server into the cache unless already there (idempotent)."""

    @property
    @abc.abstractmethod
    def log_file(self) -> Path:
        """The server's own log file."""

    @abc.abstractmethod
    def _allocate_ports(self) -> None:
        """Choose the ports still unset."""

    @abc.abstractmethod
    def _prepare(self) -> list[str]:
        """Prepare the data dir (config files, formatting) and return the command line."""

    @abc.abstractmethod
    def _probe(self, timeout: float) -> None:
        """Return if the server answers a real request; raise otherwise."""

    def _environment(self) -> dict[str, str]:
        return dict(os.environ)

    # -- common lifecycle ---------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise DevStackError(f"{self.name}: no port yet, call start() first")
        return self._port

    @property
    def console_log(self) -> Path:
        """Where the process' stdout/stderr go."""
        return self.data_dir / "console.log"

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None else None

    @property
    def is_running(self) -> bool:
        proc = self._proc
        return proc is not None and proc.poll() is None

    def start(self) -> None:
        """Install if needed and launch the process; returns without waiting for readiness."""
        with self._lock:
            if self.is_running:
                return
            self.install()
            self._allocate_ports()
            self.data_dir.mkdir(parents=True, exist_ok=True)
            argv = self._prepare()
            with self.console_log.open("ab") as output:
                self._proc = _process.spawn(
                    argv, cwd=self.data_dir, output=output, env=self._environment()
                )
            _running.add(self)
            log.debug("%s started, pid %d", self.name, self._proc.pid)

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Block until the server answers a real request; ServerStartError if it can't."""
        started = time.monotonic()
        deadline = started + timeout
        last_problem = "not probed yet"
        while True:
            proc = self._proc
            if proc is None:
                raise ServerStartError(f"{self.name} is not started")
            code = proc.poll()
            if code is not None:
                raise ServerStartError(
                    f"{self.name} exited with code {code} while starting\n{self._diagnostics()}"
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ServerStartError(
                    f"{self.name} not ready after {timeout:.0f}s ({last_problem})\n"
                    f"{self._diagnostics()}"
                )
            if not _process.port_accepts(self.host, self.port, timeout=min(1.0, remaining)):
                last_problem = f"nothing accepts connections on {self.host}:{self.port} yet"
            else:
                try:
                    self._probe(timeout=max(0.5, min(10.0, remaining)))
                except Exception as exc:
                    last_problem = f"probe failed: {type(exc).__name__}: {exc}"
                else:
                    log.debug("%s ready after %.1fs", self.name, time.monotonic() - started)
                    return
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))

    def stop(self, timeout: float | None = None) -> None:
        """SIGTERM the server, SIGKILL it if still there after ``timeout``; wait for it."""
        with self._lock:
            proc = self._proc
            if proc is None:
                return
            _process.terminate(proc, self.stop_timeout if timeout is None else timeout)
            self._proc = None
            _running.discard(self)

    def kill(self) -> None:
        """SIGKILL the server at once (a crash, for fault tests) and wait for it."""
        with self._lock:
            proc = self._proc
            if proc is None:
                return
            _process.kill(proc)
            self._proc = None
            _running.discard(self)

    def restart(self, timeout: float = 120.0) -> None:
        """Stop (if running), start again on the same port(s) and data dir, wait until ready."""
        self.stop()
        self.start()
        self.wait_ready(timeout)

    async def start_async(self) -> None:
        await asyncio.to_thread(self.start)

    async def wait_ready_async(self, ready_timeout: float = 120.0) -> None:
        await asyncio.to_thread(self.wait_ready, ready_timeout)

    async def stop_async(self, stop_timeout: float | None = None) -> None:
        await asyncio.to_thread(self.stop, stop_timeout)

    async def kill_async(self) -> None:
        await asyncio.to_thread(self.kill)

    async def restart_async(self, ready_timeout: float = 120.0) -> None:
        await asyncio.to_thread(self.restart, ready_timeout)

    def __enter__(self) -> Self:
        self.start()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"pid {self.pid}" if self.is_running else "stopped"
        port = self._port if self._port is not None else "-"
        return f"<{type(self).__name__} {self.host}:{port} {state} data={self.data_dir}>"

    def _diagnostics(self) -> str:
        parts = []
        for path in dict.fromkeys((self.console_log, self.log_file)):
            text = _process.tail(path)
            if text:
                parts.append(f"--- last lines of {path} ---\n{text}")
        return "\n".join(parts) or f"(no output; see {self.data_dir})"
