"""A local schema registry: Apicurio Registry, built with Maven from Maven Central jars.

Its Confluent-compatible API is at ``<url>`` (``http://host:port/apis/ccompat/v7``), what the
services take as ``SCHEMA_REGISTRY_URL``. Schemas live in memory: a restarted registry is
empty, and each service registers its schemas again at start. See ``registry/pom.xml`` for
how the build differs from Apicurio's own.
"""

from __future__ import annotations

import functools
import os
import shutil
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

from rinnovo.devstack import _process
from rinnovo.devstack._paths import cache_dir, fingerprint, recipes_dir
from rinnovo.devstack._server import ManagedServer, cached_install
from rinnovo.devstack.errors import DevStackError

API_PATH = "/apis/ccompat/v7"


def _recipe() -> Path:
    return recipes_dir() / "registry"


def _recipe_files() -> list[Path]:
    return sorted(p for p in _recipe().rglob("*") if p.is_file() and "target" not in p.parts)


@functools.cache
def registry_version() -> str:
    """The Apicurio Registry version pinned in ``deploy/local/registry/pom.xml``."""
    namespace = {"m": "http://maven.apache.org/POM/4.0.0"}
    pom = _recipe() / "pom.xml"
    node = ET.parse(pom).getroot().find("m:properties/m:apicurio.version", namespace)
    if node is None or not (node.text or "").strip():
        raise DevStackError(f"no <apicurio.version> property in {pom}")
    return (node.text or "").strip()


def registry_home() -> Path:
    return cache_dir() / f"apicurio-registry-{registry_version()}"


def install_registry() -> Path:
    """Build the registry with Maven into the cache, once. Returns the install dir."""

    def build(target: Path) -> None:
        mvn = _process.find_tool(
            "mvn", purpose="to build the schema registry", env_var="RINNOVO_MVN"
        )
        work = target / "build"
        shutil.copytree(_recipe(), work, ignore=shutil.ignore_patterns("target"))
        _process.run_tool(
            [mvn, "-B", "-q", "--no-transfer-progress", "-s", "settings.xml", "package"],
            cwd=work,
            what=f"building Apicurio Registry {registry_version()} with Maven",
        )
        built = work / "target"
        runner = next(built.glob("*-runner.jar"), None)
        if runner is None:
            raise DevStackError(f"Maven did not produce the registry's runner jar in {built}")
        runner.rename(target / "registry.jar")
        (built / "lib").rename(target / "lib")
        shutil.rmtree(work)

    return cached_install(
        registry_home(),
        fingerprint(_recipe_files()),
        build,
        what=f"Apicurio Registry {registry_version()}",
    )


class RegistryServer(ManagedServer):
    """One Apicurio Registry process; its output (the only log) is ``console.log``."""

    name = "schema-registry"

    def __init__(
        self,
        data_dir: Path | str,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        heap: str = "384m",
        stop_timeout: float = 30.0,
    ) -> None:
        super().__init__(data_dir, port=port, host=host, stop_timeout=stop_timeout)
        self.heap = heap

    @property
    def url(self) -> str:
        """The Confluent-compatible API's base."""
        return f"http://{self.host}:{self.port}{API_PATH}"

    @property
    def log_file(self) -> Path:
        return self.console_log

    def install(self) -> None:
        install_registry()

    def _allocate_ports(self) -> None:
        if self._port is None:
            [self._port] = _process.free_ports(1, self.host)

    def _prepare(self) -> list[str]:
        java = _process.find_tool(
            "java", purpose="to run the schema registry (Java 17+)", env_var="RINNOVO_JAVA"
        )
        java_home = os.environ.get("JAVA_HOME")
        if "RINNOVO_JAVA" not in os.environ and java_home:
            candidate = Path(java_home) / "bin" / "java"
            if candidate.is_file():
                java = str(candidate)
        return [
            java,
            f"-Xmx{self.heap}",
            "-XX:+UseSerialGC",
            "-XX:+ExitOnOutOfMemoryError",
            "-XX:-UsePerfData",
            "-XX:TieredStopAtLevel=1",  # starts faster; a dev registry has little to do
            f"-Dquarkus.http.host={self.host}",
            f"-Dquarkus.http.port={self.port}",
            "-Dquarkus.log.console.json=false",
            "-jar",
            str(registry_home() / "registry.jar"),
        ]

    def _probe(self, timeout: float) -> None:
        with urllib.request.urlopen(f"{self.url}/subjects", timeout=timeout) as response:
            if response.status != 200:
                raise DevStackError(f"schema registry answered {response.status}")
