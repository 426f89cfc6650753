"""The committed AsyncAPI documents, checked by the official AsyncAPI parser (not by us).

The parser is the npm package ``@asyncapi/parser`` pinned in ``asyncapi-validator/``
(``package.json`` and ``package-lock.json``); ``npm ci`` installs it once into the cache
(``$RINNOVO_CACHE_DIR``, else ``~/.cache/rinnovo``), again only when the lock file changes.
``validate.cjs`` fails on any diagnostic of error severity and prints them all.
"""

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from rinnovo.devstack import cache_dir
from rinnovo.devstack._paths import fingerprint
from rinnovo.devstack._server import cached_install
from rinnovo.runtime import plugins

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = Path(__file__).resolve().parent / "asyncapi-validator"
DOCUMENTS = sorted((ROOT / "docs" / "asyncapi").glob("*.json"))
SERVICES = set(plugins.SERVICES)


@pytest.fixture(scope="session")
def node() -> str:
    found = shutil.which("node")
    if found is None:
        pytest.skip("node is not installed")
    return found


@pytest.fixture(scope="session")
def parser_modules(node: str) -> Path:
    """The directory whose ``node_modules`` holds the pinned parser, installed on first use."""
    npm = shutil.which("npm")
    assert npm is not None, "node is installed without npm"
    manifest = [VALIDATOR / "package.json", VALIDATOR / "package-lock.json"]

    def install(target: Path) -> None:
        for file in manifest:
            shutil.copy2(file, target / file.name)
        subprocess.run(
            # No install scripts: the parser needs none (one dependency only reports usage).
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=target,
            check=True,
            timeout=600,
        )

    digest = fingerprint(manifest, "npm ci")
    # One folder per lock file: checkouts with another lock neither replace nor wait for it.
    target = cache_dir() / f"asyncapi-validator-{digest[:12]}"
    return cached_install(target, digest, install, what="the AsyncAPI parser")


def validate(node: str, modules: Path, *documents: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [node, str(VALIDATOR / "validate.cjs"), "--modules", str(modules), *map(str, documents)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_service_has_a_document() -> None:
    assert {d.stem for d in DOCUMENTS} == SERVICES


@pytest.fixture(scope="session")
def verdict(node: str, parser_modules: Path) -> subprocess.CompletedProcess[str]:
    """One run of the parser over every document (starting node costs seconds)."""
    return validate(node, parser_modules, *DOCUMENTS)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: d.stem)
def test_the_asyncapi_parser_accepts_the_document(
    verdict: subprocess.CompletedProcess[str], document: Path
) -> None:
    report = verdict.stdout + verdict.stderr
    assert f"{document}: valid AsyncAPI 3.0.0" in verdict.stdout, report
    assert f"{document}: INVALID" not in verdict.stdout, report


def test_the_validator_exits_zero_on_our_documents(
    verdict: subprocess.CompletedProcess[str],
) -> None:
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr


def test_the_asyncapi_parser_reports_broken_documents(
    node: str, parser_modules: Path, tmp_path: Path
) -> None:
    def broken_copy(name: str, breaks: Any) -> Path:
        data = json.loads((ROOT / "docs" / "asyncapi" / "orders.json").read_text())
        breaks(data)
        path = tmp_path / name
        path.write_text(json.dumps(data))
        return path

    def old_action(data: dict[str, Any]) -> None:
        operation = next(iter(data["operations"].values()))
        operation["action"] = "publish"  # AsyncAPI 2's word: version 3 has send and receive

    def dangling_ref(data: dict[str, Any]) -> None:
        channel = next(iter(data["channels"].values()))
        first = next(iter(channel["messages"]))
        channel["messages"][first] = {"$ref": "#/components/messages/no-such-message"}

    action = broken_copy("action.json", old_action)
    ref = broken_copy("ref.json", dangling_ref)

    result = validate(node, parser_modules, action, DOCUMENTS[0], ref)

    assert result.returncode == 1, result.stdout + result.stderr
    assert '"action" property must be equal to one of the allowed values' in result.stdout
    assert "'#/components/messages/no-such-message' does not exist" in result.stdout
    assert f"{action}: INVALID" in result.stdout
    assert f"{ref}: INVALID" in result.stdout
    assert f"{DOCUMENTS[0]}: valid" in result.stdout
