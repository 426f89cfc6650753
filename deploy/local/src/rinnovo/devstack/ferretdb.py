"""FerretDB (MongoDB wire protocol over SQLite), built from its Go module on first use."""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

from rinnovo.devstack import _process
from rinnovo.devstack._paths import cache_dir, fingerprint, recipes_dir
from rinnovo.devstack._server import ManagedServer, cached_install
from rinnovo.devstack.errors import DevStackError

BINARY = "rinnovo-ferretdb"


def _source() -> Path:
    return recipes_dir() / "ferretdb"


@functools.cache
def ferretdb_version() -> str:
    """The FerretDB version pinned in ``deploy/local/ferretdb/go.mod`` (without the ``v``)."""
    go_mod = _source() / "go.mod"
    found = re.search(
        r"^\s*(?:require\s+)?github\.com/FerretDB/FerretDB\s+v(\S+)", go_mod.read_text(), re.M
    )
    if found is None:
        raise DevStackError(f"github.com/FerretDB/FerretDB is not required in {go_mod}")
    return found.group(1)


def ferretdb_home() -> Path:
    """Where the binary is installed: ``<cache>/ferretdb-<version>``."""
    return cache_dir() / f"ferretdb-{ferretdb_version()}"


def install_ferretdb() -> Path:
    """Build our FerretDB launcher with Go into the cache, once. Returns the binary's path."""
    source = _source()
    files = [source / "go.mod", source / "go.sum", *sorted(source.glob("*.go"))]

    def build(target: Path) -> None:
        go = _process.find_tool("go", purpose="to build FerretDB", env_var="RINNOVO_GO")
        env = dict(os.environ)
        env["CGO_ENABLED"] = "0"
        env["GOFLAGS"] = f"{env.get('GOFLAGS', '')} -mod=readonly -buildvcs=false".strip()
        _process.run_tool(
            [go, "build", "-trimpath", "-o", str(target / BINARY), "."],
            cwd=source,
            env=env,
            what=f"building FerretDB {ferretdb_version()} with Go",
        )

    home = cached_install(
        ferretdb_home(),
        fingerprint(files),
        build,
        what=f"FerretDB {ferretdb_version()}",
    )
    return home / BINARY


class FerretDBServer(ManagedServer):
    """FerretDB listening on ``host:port`` with its SQLite databases in ``data_dir/sqlite``."""

    name = "ferretdb"

    def __init__(
        self,
        data_dir: Path | str,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        log_level: str = "info",
        stop_timeout: float = 15.0,
    ) -> None:
        super().__init__(data_dir, port=port, host=host, stop_timeout=stop_timeout)
        self.log_level = log_level

    @property
    def version(self) -> str:
        return ferretdb_version()

    @property
    def url(self) -> str:
        return f"mongodb://{self.host}:{self.port}/"

    @property
    def log_file(self) -> Path:
        return self.console_log

    def install(self) -> None:
        install_ferretdb()

    def _allocate_ports(self) -> None:
        if self._port is None:
            self._port = _process.free_ports(1, self.host)[0]

    def _prepare(self) -> list[str]:
        return [
            str(ferretdb_home() / BINARY),
            "-listen-addr",
            f"{self.host}:{self.port}",
            "-data-dir",
            str(self.data_dir / "sqlite"),
            "-log-level",
            self.log_level,
        ]

    def _probe(self, timeout: float) -> None:
        from pymongo import MongoClient

        millis = max(500, int(timeout * 1000))
        client: MongoClient[dict[str, object]] = MongoClient(
            self.url,
            directConnection=True,
            serverSelectionTimeoutMS=millis,
            connectTimeoutMS=millis,
            socketTimeoutMS=millis,
        )
        try:
            client.admin.command("ping")
        finally:
            client.close()
