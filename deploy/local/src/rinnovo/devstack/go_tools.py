"""Command-line tools built from a pinned Go module on first use, into the cache.

Each is pinned in a folder of its own holding a ``go.mod`` (and its ``go.sum``) that requires
the tool's module; it is built with ``go build`` into ``<cache>/<binary>-<version>`` like
FerretDB, rebuilt only when those two files change, so a machine with Go needs nothing else.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from rinnovo.devstack import _process
from rinnovo.devstack._paths import cache_dir, fingerprint, recipes_dir
from rinnovo.devstack._server import cached_install
from rinnovo.devstack.errors import DevStackError


@dataclass(frozen=True)
class GoTool:
    binary: str
    module: str
    """The module ``go.mod`` requires; its version names the build."""
    package: str
    """What ``go build`` builds (the module itself, or a command inside it)."""
    folder: str
    """The folder of ``go.mod`` and ``go.sum``, under ``deploy/``."""

    @property
    def recipe(self) -> Path:
        return recipes_dir().parent / self.folder  # deploy/local -> deploy

    def version(self) -> str:
        go_mod = self.recipe / "go.mod"
        pattern = rf"^\s*(?:require\s+)?{re.escape(self.module)}\s+v(\S+)"
        found = re.search(pattern, go_mod.read_text(), re.M)
        if found is None:
            raise DevStackError(f"{self.module} is not required in {go_mod}")
        return found.group(1)

    def install(self) -> Path:
        """Build the tool with Go into the cache, once. Returns the binary's path."""
        version = self.version()

        def build(target: Path) -> None:
            go = _process.find_tool("go", purpose=f"to build {self.binary}", env_var="RINNOVO_GO")
            env = dict(os.environ)
            env["CGO_ENABLED"] = "0"
            env["GOFLAGS"] = f"{env.get('GOFLAGS', '')} -mod=readonly -buildvcs=false".strip()
            _process.run_tool(
                [go, "build", "-trimpath", "-o", str(target / self.binary), self.package],
                cwd=self.recipe,
                env=env,
                what=f"building {self.binary} ({self.module} {version}) with Go",
                timeout=3600.0,  # the first time, the module graph is downloaded too
            )

        home = cached_install(
            cache_dir() / f"{self.binary}-{version}",
            fingerprint([self.recipe / "go.mod", self.recipe / "go.sum"]),
            build,
            what=f"{self.binary} {version}",
        )
        return home / self.binary
