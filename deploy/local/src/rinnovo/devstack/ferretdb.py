"""FerretDB (MongoDB wire protocol over SQLite), built from its Go module on first use."""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import tempfile
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


def _recipe_files() -> tuple[list[Path], list[Path]]:
    """What the build is made of (the recipe and the patches), and the patches alone."""
    source = _source()
    patches = sorted((source / "patches").glob("*.patch"))
    return [source / "go.mod", source / "go.sum", *sorted(source.glob("*.go")), *patches], patches


def ferretdb_home() -> Path:
    """Where the binary is installed: ``<cache>/ferretdb-<version>-<recipe digest>``.

    One directory per recipe, so checkouts with different patches share the cache without
    rebuilding over each other's binary while it runs.
    """
    digest = fingerprint(_recipe_files()[0])
    return cache_dir() / f"ferretdb-{ferretdb_version()}-{digest[:12]}"


def install_ferretdb() -> Path:
    """Build our FerretDB launcher with Go into the cache, once. Returns the binary's path.

    The patches in ``deploy/local/ferretdb/patches`` are applied to a copy of FerretDB's
    module source, which the build then uses in place of the module (a ``replace``); the
    module cache and the recipe stay untouched.
    """
    source = _source()
    files, patches = _recipe_files()

    def build(target: Path) -> None:
        go = _process.find_tool("go", purpose="to build FerretDB", env_var="RINNOVO_GO")
        env = dict(os.environ)
        env["CGO_ENABLED"] = "0"
        env["GOFLAGS"] = f"{env.get('GOFLAGS', '')} -mod=readonly -buildvcs=false".strip()
        with tempfile.TemporaryDirectory(prefix="ferretdb-build-") as scratch:
            recipe = _patched_recipe(go, source, patches, Path(scratch), env)
            _process.run_tool(
                [go, "build", "-trimpath", "-o", str(target / BINARY), "."],
                cwd=recipe,
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


def _patched_recipe(
    go: str, source: Path, patches: list[Path], scratch: Path, env: dict[str, str]
) -> Path:
    """Copy the recipe and FerretDB's module into ``scratch``, patch the module, and point
    the recipe's copy at it. Returns the directory to build in."""
    what = f"FerretDB {ferretdb_version()}"
    module = json.loads(
        _process.run_tool(
            [go, "mod", "download", "-json", "github.com/FerretDB/FerretDB"],
            cwd=source,
            env=env,
            what=f"downloading {what}",
        )
    )
    ferretdb = scratch / "FerretDB"
    shutil.copytree(module["Dir"], ferretdb)
    for path in [ferretdb, *ferretdb.rglob("*")]:  # the module cache's copy is read-only
        path.chmod(path.stat().st_mode | 0o200)
    git = _process.find_tool("git", purpose="to patch FerretDB")
    for patch in patches:
        _process.run_tool(
            [git, "apply", "-p1", str(patch)],
            cwd=ferretdb,
            env={**env, "GIT_CEILING_DIRECTORIES": str(scratch)},
            what=f"applying {patch.name} to {what}",
        )
    recipe = scratch / "recipe"
    shutil.copytree(source, recipe, ignore=shutil.ignore_patterns("patches"))
    _process.run_tool(
        [go, "mod", "edit", f"-replace=github.com/FerretDB/FerretDB={ferretdb}"],
        cwd=recipe,
        env=env,
        what=f"pointing the build at the patched {what}",
    )
    return recipe


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
