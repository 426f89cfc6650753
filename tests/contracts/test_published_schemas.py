"""The published event catalog: committed exports match the code, the store of published
versions is whole, every version reads every other, every consumer's view is satisfied."""

import shutil
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import Field

from rinnovo.contracts import TOPICS
from rinnovo.contracts.catalog import ProductSnapshot, ProductSnapshotPublished
from rinnovo.contracts.envelope import Contract, Event
from rinnovo.contracts.orders import OrderKind
from rinnovo.contracts.views import EventView, View
from rinnovo.runtime.compatibility import Direction, Finding, resolve, unreadable
from rinnovo.runtime.published import (
    PUBLISHED_DIR,
    integrity_problems,
    read_versions,
    version_path,
)
from rinnovo.runtime.schemas import (
    consumer_problems,
    consumer_views,
    event_problems,
    event_schema,
    snapshot_differences,
)

ROOT = Path(__file__).resolve().parents[2]
SERVICES_THAT_CONSUME = {"orders", "payments", "notifier"}


def test_committed_exports_match_the_code() -> None:
    assert snapshot_differences(ROOT) == []


def test_the_published_events_hold() -> None:
    assert event_problems(ROOT) == []


def test_every_consuming_service_declares_its_views() -> None:
    views = consumer_views()
    assert set(views) == SERVICES_THAT_CONSUME
    assert "payments.payment.registered" in views["orders"]
    assert "orders.order.placed" in views["payments"]
    assert "orders.service.expiring" in views["notifier"]


# ---- the rules, on deliberately changed models ----


def findings(writer: type[Any], reader: type[Any]) -> list[Finding]:
    return unreadable(resolve(writer.model_json_schema()), resolve(reader.model_json_schema()))


def rules(found: list[Finding], direction: Direction) -> list[str]:
    return [f.describe(direction) for f in found]


class RenamedProduct(Contract):
    id: str  # was product_id


class RenamedSnapshotPublished(Event):
    type: Literal["catalog.product.snapshot"] = "catalog.product.snapshot"
    payload: RenamedProduct


class ExtendedSnapshot(ProductSnapshot):
    marketing_tagline: str | None = None  # new and optional: old consumers ignore it


class ExtendedSnapshotPublished(Event):
    type: Literal["catalog.product.snapshot"] = "catalog.product.snapshot"
    payload: ExtendedSnapshot


class RetypedEnvelope(ProductSnapshotPublished):
    aggregate_version: str  # type: ignore[assignment]  # was an integer


def test_a_renamed_field_breaks_both_directions() -> None:
    forward = findings(RenamedSnapshotPublished, ProductSnapshotPublished)
    backward = findings(ProductSnapshotPublished, RenamedSnapshotPublished)
    assert "$.payload.product_id: required field removed" in "\n".join(
        rules(forward, Direction.FORWARD)
    )
    assert "$.payload.id: required field added" in "\n".join(rules(backward, Direction.BACKWARD))


def test_a_type_change_breaks_both_directions() -> None:
    for writer, reader in (
        (RetypedEnvelope, ProductSnapshotPublished),
        (ProductSnapshotPublished, RetypedEnvelope),
    ):
        [finding] = findings(writer, reader)
        assert (finding.path, finding.kind) == ("$.aggregate_version", "type")


def test_an_optional_addition_is_compatible_both_ways() -> None:
    assert findings(ExtendedSnapshotPublished, ProductSnapshotPublished) == []
    assert findings(ProductSnapshotPublished, ExtendedSnapshotPublished) == []


class Amount(Contract):
    cents: int = 0
    kind: OrderKind = OrderKind.RENEWAL
    when: str | None = None


class Narrow(Contract):
    cents: int = Field(default=0, le=100)


class Nullable(Contract):
    cents: int | None = 0


class Number(Contract):
    cents: float = 0.0


class Fewer(Contract):
    kind: Literal["renewal", "upgrade"] = "renewal"


def test_narrowing_and_widening_are_found_each_in_its_direction() -> None:
    assert rules(findings(Amount, Narrow), Direction.BACKWARD) == [
        "$.cents: constraint narrowed (maximum: None -> reader 100)"
    ]
    assert findings(Narrow, Amount) == []
    assert [f.kind for f in findings(Nullable, Amount)] == ["null"]
    assert findings(Amount, Number) == []  # every integer is a number
    assert [f.kind for f in findings(Number, Amount)] == ["type"]


def test_enum_values_must_be_known_to_the_reader() -> None:
    assert findings(Fewer, Amount) == []
    [finding] = findings(Amount, Fewer)
    assert finding.kind == "values"
    assert "enum value added" in finding.describe(Direction.FORWARD)
    assert "'first_purchase'" in finding.detail


def test_a_view_names_what_its_consumer_misses() -> None:
    class NeedsTagline(View):
        product_id: str
        marketing_tagline: str

    class TaglineReader(EventView):
        payload: NeedsTagline

    published = read_versions(ROOT)
    problems = consumer_problems(
        published, {"marketing": {"catalog.product.snapshot": TaglineReader}}
    )
    assert problems == [
        "marketing reads catalog.product.snapshot (TaglineReader), and catalog.product.v1 "
        f"catalog.product.snapshot version {n} breaks it: $.payload.marketing_tagline: field "
        "the consumer reads is not in the schema (the writer does not have it)"
        for n in (1, 2)  # every published version
    ]


def test_a_view_of_an_unknown_event_is_reported() -> None:
    problems = consumer_problems(read_versions(ROOT), {"x": {"no.such.event": EventView}})
    assert problems == ["x reads no.such.event, which is on no topic"]


@pytest.mark.parametrize("event", [e for spec in TOPICS.values() for e in spec.events])
def test_every_event_reads_itself(event: type[Event]) -> None:
    schema = resolve(event_schema(event))
    assert unreadable(schema, schema) == []


def test_without_git_the_manifest_still_finds_an_edited_or_removed_version(
    tmp_path: Path,
) -> None:
    shutil.copytree(ROOT / PUBLISHED_DIR, tmp_path / PUBLISHED_DIR)
    paid = version_path("orders.order.v1", "orders.order.paid", 1)
    (tmp_path / paid).write_text((tmp_path / paid).read_text().replace("Paid At", "Paid at"))
    placed = version_path("orders.order.v1", "orders.order.placed", 1)
    (tmp_path / placed).unlink()
    assert sorted(integrity_problems(tmp_path)) == [
        f"{paid}: published version edited; published versions never change",
        f"{placed}: published version removed; published versions stay",
    ]
