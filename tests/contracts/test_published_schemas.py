"""The published event catalog: committed exports match the code and stay compatible."""

from pathlib import Path
from typing import Literal

from rinnovo.contracts.catalog import ProductSnapshot, ProductSnapshotPublished
from rinnovo.contracts.envelope import Contract, Event
from rinnovo.runtime.schemas import (
    breaking_changes,
    compatibility_problems,
    event_schema,
    snapshot_differences,
)

ROOT = Path(__file__).resolve().parents[2]


def test_committed_exports_match_the_code() -> None:
    assert snapshot_differences(ROOT) == []


def test_committed_event_schemas_are_compatible_with_the_code() -> None:
    assert compatibility_problems(ROOT) == []


# A deliberately broken and a deliberately compatible edit of a published event.


class RenamedProduct(Contract):
    id: str  # was product_id


class BrokenSnapshotPublished(Event):
    type: Literal["catalog.product.snapshot"] = "catalog.product.snapshot"
    payload: RenamedProduct


class ExtendedSnapshot(ProductSnapshot):
    marketing_tagline: str | None = None  # new and optional: old consumers ignore it


class ExtendedSnapshotPublished(Event):
    type: Literal["catalog.product.snapshot"] = "catalog.product.snapshot"
    payload: ExtendedSnapshot


class RetypedEnvelope(ProductSnapshotPublished):
    aggregate_version: str  # type: ignore[assignment]  # was an integer


def test_a_breaking_change_is_caught() -> None:
    published = event_schema(ProductSnapshotPublished)
    problems = breaking_changes(published, event_schema(BrokenSnapshotPublished))
    assert any("payload.product_id: required property removed" in p for p in problems)
    assert any("payload.id: property became required" in p for p in problems)
    retyped = breaking_changes(published, event_schema(RetypedEnvelope))
    assert any(p.startswith("$.aggregate_version: type changed") for p in retyped)


def test_an_optional_addition_is_compatible() -> None:
    published = event_schema(ProductSnapshotPublished)
    assert breaking_changes(published, event_schema(ExtendedSnapshotPublished)) == []
