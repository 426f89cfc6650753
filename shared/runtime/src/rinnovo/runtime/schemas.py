"""Export the published contracts and guard them.

- ``shared/contracts/published/<topic>/<type>/<n>.json``: every version ever published of
  each event's JSON Schema, append-only (see ``published.py``);
- ``shared/contracts/schemas/<topic>/<type>.json``: the version the code emits now;
- ``docs/asyncapi/<service>.json``: the AsyncAPI 3 document of every service.

An event class declares its version in ``schema_version``. ``export`` publishes a model that
differs from every published version as that version, if it is compatible with every earlier
one in both directions (``compatibility.py``). ``check`` fails when a committed file differs
from what the code exports, when a published version was edited or removed, when the model
is not published, when any two versions of an event are incompatible, and when a published
version lacks what a consuming service reads (its ``consumed.py``).
"""

import importlib
import tempfile
from collections.abc import Iterator, Mapping
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from rinnovo.contracts import TOPICS, Event
from rinnovo.runtime.compatibility import Direction, resolve, unreadable
from rinnovo.runtime.published import (
    Version,
    dump,
    integrity_problems,
    publish,
    read_versions,
)

SCHEMAS_DIR = Path("shared/contracts/schemas")
ASYNCAPI_DIR = Path("docs/asyncapi")

Versions = dict[tuple[str, str], list[Version]]
Views = Mapping[str, Mapping[str, type[BaseModel]]]
"""Per consuming service, the view it reads of each event type it consumes."""


def event_schema(event: type[Event]) -> dict[str, Any]:
    return event.model_json_schema(mode="validation")


def declared_version(event: type[Event]) -> int:
    version: int = event.model_fields["schema_version"].default
    return version


def current_versions() -> Iterator[Version]:
    """What the code emits now, as the version each event class declares."""
    for spec in TOPICS.values():
        for event in spec.events:
            yield Version(
                spec.name, event.event_type(), declared_version(event), event_schema(event)
            )


def contract_files() -> Iterator[tuple[Path, dict[str, Any]]]:
    for version in current_versions():
        yield SCHEMAS_DIR / version.topic / f"{version.event_type}.json", version.schema


def asyncapi_files() -> Iterator[tuple[Path, dict[str, Any]]]:
    from faststream.specification import AsyncAPI

    from rinnovo.runtime.plugins import allowed_services

    for name, plugin in allowed_services().items():
        built = plugin.build()
        document = AsyncAPI(
            built.runtime.specification,
            title=f"rinnovo {name}",
            version="1",
            description=plugin.description,
            schema_version="3.0.0",
        ).to_specification()
        data = document.to_jsonable()
        # The broker address belongs to a deployment, not to the contract.
        data["servers"] = {
            "kafka": {
                "host": "{bootstrap}",
                "protocol": "kafka",
                "description": "The deployment's Kafka cluster (KAFKA_BOOTSTRAP_SERVERS).",
                "variables": {"bootstrap": {"default": "localhost:9092"}},
            }
        }
        for channel in data.get("channels", {}).values():
            channel["servers"] = [{"$ref": "#/servers/kafka"}]
        yield ASYNCAPI_DIR / f"{name}.json", data


def _write_all(root: Path) -> list[Path]:
    written = []
    for path, data in [*contract_files(), *asyncapi_files()]:
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(dump(data))
        written.append(path)
    return written


def export(root: Path) -> int:
    """Write the exports and publish each compatible new version; report the rest."""
    for path in _write_all(root):
        print(path)
    problems = publish_new(root)
    for problem in problems:
        print(problem)
    return 1 if problems else 0


def check(root: Path) -> int:
    problems = snapshot_differences(root) + event_problems(root)
    for problem in problems:
        print(problem)
    return 1 if problems else 0


def publish_new(root: Path) -> list[str]:
    """Publish each event whose model is a compatible next version; what stops the rest."""
    versions = read_versions(root)
    problems: list[str] = []
    for model in current_versions():
        new, found = _publishable(model, versions.get((model.topic, model.event_type), []))
        if new is not None and not found:
            print(publish(root, new), "(published)")
        problems += found
    return problems


def event_problems(root: Path) -> list[str]:
    """Everything about the published events: the store's integrity, the models against it,
    every version against every earlier one, every consumer's view against every version."""
    versions = read_versions(root)
    return (
        integrity_problems(root)
        + model_problems(versions)
        + store_problems(versions)
        + consumer_problems(versions, consumer_views())
    )


def snapshot_differences(root: Path) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp)
        exported = _write_all(fresh)
        problems = []
        for path in exported:
            committed = root / path
            if not committed.exists():
                problems.append(f"{path}: not committed; run `make contracts`")
            elif committed.read_text() != (fresh / path).read_text():
                problems.append(f"{path}: differs from the code; run `make contracts`")
        for folder in (SCHEMAS_DIR, ASYNCAPI_DIR):
            for committed in (root / folder).rglob("*.json"):
                if committed.relative_to(root) not in exported:
                    problems.append(f"{committed.relative_to(root)}: no longer exported")
        return problems


def _publishable(model: Version, published: list[Version]) -> tuple[Version | None, list[str]]:
    """The version to publish for ``model`` (None if it is published already) and what
    stands in the way."""
    same = next((v for v in published if v.number == model.number), None)
    latest = published[-1].number if published else 0
    if same is not None and same.schema == model.schema:
        if model.number < latest:
            return None, [f"{model.label}: version {latest} is published; the code went back"]
        return None, []
    label = _model_label(model)
    problems = transitive_problems(label, model.schema, published)
    if same is not None:
        problems.insert(
            0,
            f"{same.path}: published and immutable, and the model differs: declare "
            f"schema_version = {latest + 1} for a compatible change, or publish a new topic",
        )
    elif model.number != latest + 1:
        problems.insert(0, f"{label}: the next version of this event is {latest + 1}")
    return (model if same is None else None), problems


def _model_label(model: Version) -> str:
    return f"{model.topic} {model.event_type} (the model, schema_version {model.number})"


def model_problems(versions: Versions) -> list[str]:
    """Each event class must be a published version, or publishable as the next one."""
    problems = []
    for model in current_versions():
        new, found = _publishable(model, versions.get((model.topic, model.event_type), []))
        if new is not None:
            found.insert(0, f"{new.path}: not published; run `make contracts`")
        problems += found
    return problems


def store_problems(versions: Versions) -> list[str]:
    """Each published version against every earlier one, and types gone from the code."""
    in_code = {(v.topic, v.event_type) for v in current_versions()}
    problems = []
    for key, published in versions.items():
        if key not in in_code:
            problems.append(
                f"{published[-1].label}: published, and no longer in the code; a published "
                "event stays as long as its topic (retire the topic in a new .vN instead)"
            )
        for i, version in enumerate(published):
            problems += transitive_problems(version.label, version.schema, published[:i])
    return problems


def transitive_problems(label: str, schema: dict[str, Any], earlier: list[Version]) -> list[str]:
    """Why ``schema`` is not compatible with each earlier version, in both directions."""
    new = resolve(schema)
    problems = []
    for old in earlier:
        before = resolve(old.schema)
        for finding in unreadable(new, before):
            problems.append(
                f"{label} breaks version {old.number}: {finding.describe(Direction.FORWARD)}: "
                f"consumers of version {old.number} cannot read the new events"
            )
        for finding in unreadable(before, new):
            problems.append(
                f"{label} breaks version {old.number}: {finding.describe(Direction.BACKWARD)}: "
                f"its consumers cannot read version {old.number} events still on the topic"
            )
    return problems


def consumer_views() -> dict[str, Mapping[str, type[BaseModel]]]:
    """Each installed service's ``VIEWS``, from the ``consumed`` module beside its
    composition root (found through its entry point, without building the service). Every
    consumer counts, whichever services this deployment runs."""
    found = {}
    # The group of ``plugins.SERVICES_GROUP``, named here: importing that module would bring in
    # the whole web stack, and this check runs where nothing else is needed.
    for ep in sorted(entry_points(group="rinnovo.services"), key=lambda ep: ep.name):
        module_name = ep.module.rpartition(".")[0] + ".consumed"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue  # consumes nothing
        found[ep.name] = module.VIEWS
    return found


def consumer_problems(versions: Versions, views: Views) -> list[str]:
    """Every published version, and the model, against what each consumer reads of it."""
    current = {(v.topic, v.event_type): v for v in current_versions()}
    topics = {v.event_type: v.topic for v in current.values()}
    problems = []
    for service, reads in views.items():
        for event_type, view in reads.items():
            topic = topics.get(event_type)
            if topic is None:
                problems.append(f"{service} reads {event_type}, which is on no topic")
                continue
            reader = resolve(view.model_json_schema(mode="validation"))
            published = versions.get((topic, event_type), [])
            model = current[topic, event_type]
            schemas = [(v.label, v.schema) for v in published]
            if not any(v.schema == model.schema for v in published):
                schemas.append((_model_label(model), model.schema))
            for label, schema in schemas:
                for finding in unreadable(resolve(schema), reader):
                    problems.append(
                        f"{service} reads {event_type} ({view.__name__}), and "
                        f"{label} breaks it: {finding.describe(Direction.VIEW)}"
                    )
    return problems
