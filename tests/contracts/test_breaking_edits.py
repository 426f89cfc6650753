"""Edits of a published event, each committed together with its re-export, as a developer
would: the check CI runs must refuse every breaking one, naming the field and the rule, and
accept a compatible one.

Each edit is made in a copy of ``shared/contracts`` in a git repository of its own, whose
first commit is the tree as it is. A child Python imports the edited models from the copy
(it comes first on ``PYTHONPATH``), re-exports (``publish_new``: what ``make contracts``
publishes), commits, and runs the event half of ``rinnovo contracts check``
(``event_problems``; the other half compares the AsyncAPI documents, which follow the models
anyway). One edit also goes through the ``rinnovo`` command itself.
"""

import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

# The first test waits for every edit's child processes (seconds each, more on a busy machine).
pytestmark = pytest.mark.timeout(900)

ROOT = Path(__file__).resolve().parents[2]
ORDERS = Path("shared/contracts/src/rinnovo/contracts/orders.py")
PAID_SCHEMA = "shared/contracts/published/orders.order.v1/orders.order.paid"

# Re-export, commit, check: what a developer and then CI do.
DRIVER = """
import subprocess, sys
from pathlib import Path
from rinnovo.runtime import schemas

root = Path(sys.argv[1])
for problem in schemas.publish_new(root):
    print("export refused:", problem)
subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
subprocess.run(["git", "-C", str(root), "commit", "-qm", "the edit"], check=True)
problems = schemas.event_problems(root)
print("\\n".join(problems))
sys.exit(1 if problems else 0)
"""

# Writes the edited model over the published version 1 and its manifest line, as if by
# hand, so that only the history can tell.
TAMPER = """
import hashlib, sys
from pathlib import Path
from rinnovo.contracts.orders import OrderPaid
from rinnovo.runtime import published, schemas

root = Path(sys.argv[1])
path = root / published.version_path("orders.order.v1", "orders.order.paid", 1)
old = hashlib.sha256(path.read_bytes()).hexdigest()
path.write_text(published.dump(schemas.event_schema(OrderPaid)))
new = hashlib.sha256(path.read_bytes()).hexdigest()
manifest = root / published.MANIFEST
manifest.write_text(manifest.read_text().replace(old, new))
"""

# Publishes the edited model as version 2 without the export's compatibility gate.
FORCE = """
import sys
from pathlib import Path
from rinnovo.contracts.orders import OrderPaid
from rinnovo.runtime import published, schemas

root = Path(sys.argv[1])
schema = schemas.event_schema(OrderPaid)
published.publish(root, published.Version("orders.order.v1", "orders.order.paid", 2, schema))
"""


@dataclass(frozen=True)
class Edit:
    replace: tuple[tuple[str, str], ...]
    before: str = ""
    """A script run on the copy after the edit and before the re-export."""
    command: bool = False
    """Through the ``rinnovo`` command (export, commit, check) rather than the driver."""


@dataclass(frozen=True)
class Outcome:
    code: int
    output: str


PAID = "    paid_at: AwareDatetime\n    total_cents: Cents\n"
PAID_TO_V2 = (
    'class OrderPaid(Event):\n    type: Literal["orders.order.paid"] = "orders.order.paid"\n',
    "class OrderPaid(Event):\n    schema_version: int = version(2)\n"
    '    type: Literal["orders.order.paid"] = "orders.order.paid"\n',
)
IMPORT_VERSION = (
    "from rinnovo.contracts.envelope import Cents, Contract, Event, NonEmpty\n",
    "from rinnovo.contracts.envelope import Cents, Contract, Event, NonEmpty, version\n",
)
TOTAL_AS_TEXT = (PAID, "    paid_at: AwareDatetime\n    total_cents: str\n")
PAID_AT_OPTIONAL = (PAID, "    paid_at: AwareDatetime | None = None\n    total_cents: Cents\n")
RECEIPT_ADDED = (PAID, PAID + "    receipt_url: str | None = None\n")

EDITS = {
    "total_cents becomes a string": Edit((TOTAL_AS_TEXT,)),
    "total_cents becomes a string, as version 2": Edit((TOTAL_AS_TEXT, PAID_TO_V2, IMPORT_VERSION)),
    "paid_at becomes optional": Edit((PAID_AT_OPTIONAL,)),
    "paid_at becomes optional, as version 2": Edit((PAID_AT_OPTIONAL, PAID_TO_V2, IMPORT_VERSION)),
    "paid_at becomes optional, through the rinnovo command": Edit(
        (PAID_AT_OPTIONAL,), command=True
    ),
    "payment_method removed": Edit(
        (("    payment_method: NonEmpty\n    term_years", "    term_years"),)
    ),
    "an enum value renamed": Edit(
        (('AUTOMATIC_RENEWAL = "automatic_renewal"', 'AUTOMATIC_RENEWAL = "auto_renewal"'),)
    ),
    "locale narrowed to two values": Edit(
        (
            (
                '    locale: str = Field(default="it"',
                '    locale: Literal["it", "en"] = Field(default="it"',
            ),
        )
    ),
    "total_cents as text, written over version 1": Edit((TOTAL_AS_TEXT,), before=TAMPER),
    "total_cents as text, published as version 2 by hand": Edit((TOTAL_AS_TEXT,), before=FORCE),
    "an optional field added, as version 2": Edit((RECEIPT_ADDED, PAID_TO_V2, IMPORT_VERSION)),
    "an optional field added, still as version 1": Edit((RECEIPT_ADDED,)),
}


IDENTITY = {
    "GIT_AUTHOR_NAME": "dev",
    "GIT_AUTHOR_EMAIL": "dev@example.org",
    "GIT_COMMITTER_NAME": "dev",
    "GIT_COMMITTER_EMAIL": "dev@example.org",
}


def git(tree: Path, *args: str) -> None:
    env = {**os.environ, **IDENTITY}
    subprocess.run(["git", "-C", str(tree), *args], check=True, capture_output=True, env=env)


def make_tree(tmp: Path) -> Path:
    """The contracts and their exports, in a repository whose first commit is the tree now."""
    tree = tmp / "repo"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "shared/contracts", tree / "shared/contracts", ignore=ignore)
    shutil.copytree(ROOT / "docs/asyncapi", tree / "docs/asyncapi")
    git(tree, "init", "-q")
    git(tree, "add", "-A")
    git(tree, "commit", "-qm", "as published")
    return tree


def run(tree: Path, edit: Edit) -> Outcome:
    source = tree / ORDERS
    text = source.read_text()
    for old, new in edit.replace:
        assert text.count(old) == 1, f"the edit no longer applies: {old!r}"
        text = text.replace(old, new)
    source.write_text(text)
    env = {**os.environ, **IDENTITY, "PYTHONPATH": str(tree / "shared/contracts/src")}

    def python(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, *args], env=env, capture_output=True, text=True, timeout=300
        )

    if edit.before:
        assert python("-c", edit.before, str(tree)).returncode == 0
    if not edit.command:
        done = python("-c", DRIVER, str(tree))
        return Outcome(done.returncode, done.stdout + done.stderr)
    rinnovo = ("-m", "rinnovo.runtime.cli", "contracts")
    exported = python(*rinnovo, "export", "--root", str(tree))
    git(tree, "add", "-A")
    git(tree, "commit", "-qm", "the edit")
    checked = python(*rinnovo, "check", "--root", str(tree))
    return Outcome(
        checked.returncode, exported.stdout + "\n---\n" + checked.stdout + checked.stderr
    )


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Every edit, each in its own copy, a few at a time (each child imports for seconds)."""

    def one(name: str) -> Outcome:
        return run(make_tree(tmp_path_factory.mktemp("edit")), EDITS[name])

    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(zip(EDITS, pool.map(one, EDITS), strict=True))


BREAKING = {
    "total_cents becomes a string": [
        "orders.order.paid",
        "$.payload.total_cents: type changed or widened (string -> reader integer)",
        "$.payload.total_cents: type changed or narrowed (integer -> reader string)",
    ],
    "paid_at becomes optional": [
        "$.payload.paid_at: required field made optional",
        "$.payload.paid_at: field made nullable",
    ],
    "paid_at becomes optional, as version 2": [
        f"{PAID_SCHEMA}/2.json: not published",
        "(the model, schema_version 2) breaks version 1: $.payload.paid_at: required field made "
        "optional",
    ],
    "paid_at becomes optional, through the rinnovo command": [
        f"{PAID_SCHEMA}/1.json: published and immutable, and the model differs",
        "$.payload.paid_at: required field made optional",
    ],
    "payment_method removed": [
        "orders.order.placed (the model, schema_version 1) breaks version 1: "
        "$.payload.payment_method: required field removed",
        "payments reads orders.order.placed (OrderPlacedRead), and orders.order.v1 "
        "orders.order.placed (the model",
        "notifier reads orders.order.placed (OrderPlacedRead)",
    ],
    "an enum value renamed": [
        "$.payload.kind: values widened (enum value added) (['auto_renewal'] not in",
        "$.payload.kind: values narrowed (enum value removed) (['automatic_renewal'] not in",
    ],
    "locale narrowed to two values": [
        "$.payload.holder.locale: values narrowed (enum value removed) (any value -> reader only "
        "['it', 'en'])",
    ],
    "total_cents as text, written over version 1": [
        f"{PAID_SCHEMA}/1.json: published version edited in commit ",
    ],
    "total_cents as text, published as version 2 by hand": [
        "orders.order.v1 orders.order.paid version 2 breaks version 1: $.payload.total_cents: "
        "type changed or widened",
    ],
    "an optional field added, still as version 1": [
        f"{PAID_SCHEMA}/1.json: published and immutable, and the model differs: declare "
        "schema_version = 2",
    ],
}


@pytest.mark.parametrize("name", list(BREAKING))
def test_a_breaking_edit_fails_the_check(outcomes: dict[str, Outcome], name: str) -> None:
    outcome = outcomes[name]
    assert outcome.code == 1, outcome.output
    for expected in BREAKING[name]:
        assert expected in outcome.output, outcome.output


def test_an_optional_addition_as_the_next_version_passes(outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes["an optional field added, as version 2"]
    assert outcome.code == 0, outcome.output
    assert outcome.output.strip() == f"{PAID_SCHEMA}/2.json (published)"


def test_the_store_only_grows(outcomes: dict[str, Outcome]) -> None:
    """The tampered tree passes every other check: only the history catches it."""
    output = outcomes["total_cents as text, written over version 1"].output
    assert "breaks version" not in output
    assert "not in shared/contracts/published/SHA256SUMS" not in output
