"""Child processes that never outlive us.

Every server runs as a direct child (no shell in between), in its own session and process
group, with ``PR_SET_PDEATHSIG`` set so that the kernel kills it if this Python process dies,
even by SIGKILL. The parent-death signal fires when the *thread* that forked the child ends,
so children are always forked from the main thread or from one long-lived spawner thread,
never from a short-lived worker thread (``asyncio.to_thread`` and friends).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import IO, Any, TypeVar

from rinnovo.devstack.errors import InstallError, ToolMissingError

_PR_SET_PDEATHSIG = 1

T = TypeVar("T")


def _load_libc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None


_LIBC = _load_libc()


def _child_preexec(parent_pid: int) -> Callable[[], None]:
    """Runs in the forked child before exec: die with the parent."""

    def preexec() -> None:
        if _LIBC is not None:
            _LIBC.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


_Job = tuple[Callable[[], Any], "Future[Any]"]
_spawner_queue: queue.SimpleQueue[_Job] | None = None
_spawner_lock = threading.Lock()


def _spawner_loop(jobs: queue.SimpleQueue[_Job]) -> None:
    while True:
        job, future = jobs.get()
        if not future.set_running_or_notify_cancel():
            continue
        try:
            future.set_result(job())
        except BaseException as exc:
            future.set_exception(exc)


def _on_long_lived_thread(job: Callable[[], T]) -> T:
    """Run ``job`` on the main thread or on the (daemon, never-ending) spawner thread."""
    if threading.current_thread() is threading.main_thread():
        return job()
    global _spawner_queue
    with _spawner_lock:
        if _spawner_queue is None:
            _spawner_queue = queue.SimpleQueue()
            threading.Thread(
                target=_spawner_loop,
                args=(_spawner_queue,),
                name="rinnovo-devstack-spawner",
                daemon=True,
            ).start()
        jobs = _spawner_queue
    future: Future[T] = Future()
    jobs.put((job, future))
    return future.result()


def spawn(
    argv: Sequence[str],
    *,
    cwd: Path,
    output: IO[bytes],
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``argv`` in its own process group, tied to our lifetime, output to ``output``."""
    parent_pid = os.getpid()

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_child_preexec(parent_pid),
            close_fds=True,
        )

    return _on_long_lived_thread(start)


def signal_group(pid: int, sig: int) -> bool:
    """Send ``sig`` to the process group led by ``pid``; False if the group is gone."""
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        return False
    return True


def terminate(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM the process group, SIGKILL it after ``timeout`` seconds, reap the leader."""
    if proc.poll() is None:
        signal_group(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            signal_group(proc.pid, signal.SIGKILL)
            proc.wait()
    # Whatever the leader may have left behind in its group goes too.
    signal_group(proc.pid, signal.SIGKILL)


def kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process group and reap the leader."""
    signal_group(proc.pid, signal.SIGKILL)
    proc.wait()


def run_tool(
    argv: Sequence[str],
    *,
    cwd: Path,
    what: str,
    env: Mapping[str, str] | None = None,
    timeout: float = 1800.0,
) -> str:
    """Run an install step to completion; raise InstallError with its output on failure."""
    parent_pid = os.getpid()
    try:
        done = subprocess.run(
            list(argv),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            start_new_session=True,
            preexec_fn=_child_preexec(parent_pid),
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise InstallError(f"{what} timed out after {timeout:.0f}s: {' '.join(argv)}") from exc
    output = done.stdout.decode(errors="replace")
    if done.returncode != 0:
        tail = "\n".join(output.splitlines()[-60:])
        raise InstallError(f"{what} failed (exit code {done.returncode}): {' '.join(argv)}\n{tail}")
    return output


def find_tool(name: str, *, purpose: str, env_var: str | None = None) -> str:
    """Absolute path of a tool, from ``env_var`` (a path) if set, else from the PATH."""
    if env_var:
        configured = os.environ.get(env_var)
        if configured:
            return configured
    found = shutil.which(name)
    if found is None:
        raise ToolMissingError(f"`{name}` is needed {purpose} but is not on the PATH")
    return found


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` distinct ports that were free a moment ago (bound to port 0, then released)."""
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((host, 0))
            sockets.append(sock)
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could listen on ``host:port`` now (as servers bind: reusing an
    address still in TIME_WAIT)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def port_accepts(host: str, port: int, timeout: float) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def tail(path: Path, lines: int = 40) -> str:
    """The last ``lines`` lines of a text file, or '' if it does not exist."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 64 * 1024))
            data = handle.read()
    except OSError:
        return ""
    return "\n".join(data.decode(errors="replace").splitlines()[-lines:])
