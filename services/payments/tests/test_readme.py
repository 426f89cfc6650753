"""The service's README names every setting, payment method, statement format and review
rule the code has: an operator learns them there, not by reading the code."""

import re
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from rinnovo.payments.bootstrap import PaymentsSettings
from rinnovo.payments.domain.matching import ReviewReason
from rinnovo.payments.domain.reviews import ALLOWED, Action
from rinnovo.runtime.settings import ServiceSettings

README = (Path(__file__).parents[1] / "README.md").read_text()


def section(title: str) -> str:
    found = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.M | re.S)
    assert found is not None, f"no section '## {title}' in the README"
    return found.group(1)


def test_every_setting_of_the_service_is_documented() -> None:
    own = sorted(set(PaymentsSettings.model_fields) - set(ServiceSettings.model_fields))
    settings = section("Settings (`RINNOVO_PAYMENTS_…`)")
    assert [name for name in own if f"`{name.upper()}`" not in settings] == []


@pytest.mark.parametrize(
    ("group", "title"),
    [
        ("rinnovo.payments.methods", "Payment methods"),
        ("rinnovo.payments.statement_formats", "Bank statements"),
    ],
)
def test_every_plugin_is_documented(group: str, title: str) -> None:
    names = sorted(e.name for e in entry_points(group=group))
    assert names
    text = section(title)
    assert [name for name in names if f"`{name}`" not in text] == []


def test_every_review_reason_is_documented_with_what_an_operator_may_do() -> None:
    rules = section("Review")
    for reason in ReviewReason:
        [row] = [line for line in rules.splitlines() if line.startswith(f"| `{reason.value}`")]
        allowed = {a.value for a in ALLOWED[reason]}
        shown = {a.value for a in Action if f"`{a.value}`" in row.rsplit("|", 2)[-2]}
        assert shown == allowed, reason
