"""Where things live: the download/build cache, default data dirs, our build recipes."""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rinnovo.devstack.errors import DevStackError

log = logging.getLogger("rinnovo.devstack")

CACHE_DIR_ENV = "RINNOVO_CACHE_DIR"


def cache_dir() -> Path:
    """Root of the cache: ``$RINNOVO_CACHE_DIR``, else ``$XDG_CACHE_HOME/rinnovo``, else
    ``~/.cache/rinnovo``."""
    configured = os.environ.get(CACHE_DIR_ENV)
    if configured:
        return Path(configured).expanduser().absolute()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return (base / "rinnovo").absolute()


def default_data_dir() -> Path:
    """Persistent data directory used by ``rinnovo-devstack up`` (``make run``)."""
    return cache_dir() / "data"


def recipes_dir() -> Path:
    """``deploy/local``: holds ``kafka/pom.xml``, ``kafka/log4j2.xml`` and ``ferretdb/``."""
    # deploy/local/src/rinnovo/devstack/_paths.py -> parents[3] == deploy/local
    root = Path(__file__).resolve().parents[3]
    if not (root / "kafka" / "pom.xml").is_file() or not (root / "ferretdb" / "go.mod").is_file():
        raise DevStackError(
            f"cannot find the devstack build recipes (kafka/pom.xml, ferretdb/go.mod) in {root}; "
            "rinnovo-devstack must be installed from the source tree (uv workspace, editable)"
        )
    return root


def fingerprint(files: Iterable[Path], *extra: str) -> str:
    """A stable digest of some files' names and contents plus extra strings."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    for item in extra:
        digest.update(item.encode())
        digest.update(b"\0")
    return digest.hexdigest()


@contextmanager
def file_lock(path: Path, *, waiting_message: str = "") -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created if missing) for the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if waiting_message:
                log.info("%s", waiting_message)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
