"""Templates cannot show a customer None, raw cents, an unformatted date or a missing fact;
HTML is escaped, plain text is not."""

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from rinnovo.notifier.domain.formatting import Cents
from rinnovo.notifier.domain.messages import CannotNotify, Cause, Message, Recipient, Template
from rinnovo.notifier.rendering import Renderer


def message(locale: str = "it", **facts: object) -> Message:
    return Message(
        template=Template.SERVICE_DEACTIVATED,
        recipient=Recipient("c1", "Rossi <b>&</b> Figli", "r@example.it", locale, locale),
        cause=Cause("e1", "t", "a", datetime(2027, 1, 1, tzinfo=UTC), "corr"),
        facts=facts,
    )


@pytest.fixture
def scratch(tmp_path: Path) -> Renderer:
    """A renderer over one-line templates written by each test."""
    (tmp_path / "it").mkdir()
    return Renderer({}, directory=tmp_path)


def write(renderer: Renderer, body: str) -> None:
    root = Path(renderer.env.loader.searchpath[0])  # type: ignore[union-attr]
    for suffix in ("subject.txt", "txt", "html"):
        (root / "it" / f"service_deactivated.{suffix}").write_text(body)


@pytest.mark.parametrize(
    ("body", "facts", "complaint"),
    [
        ("{{ missing }}", {}, "undefined"),
        ("{{ amount }}", {"amount": None}, "None"),
        ("{{ amount }}", {"amount": Cents(123456)}, "raw cents"),
        ("{{ day }}", {"day": date(2027, 3, 1)}, "unformatted date"),
        ("{{ flag }}", {"flag": True}, "boolean"),
        ("{{ amount|euro }}", {"amount": 12.5}, "integer cents"),
    ],
)
def test_what_must_never_reach_a_customer_stops_the_rendering(
    scratch: Renderer, body: str, facts: dict[str, object], complaint: str
) -> None:
    write(scratch, body)
    with pytest.raises(CannotNotify) as caught:
        scratch.render(message(**facts))
    assert caught.value.kind == "template_error"
    assert complaint in caught.value.reason


def test_formatted_values_render(scratch: Renderer) -> None:
    write(scratch, "{{ amount|euro }} {{ day|data }} {% if gone %}x{% endif %}")
    rendered = scratch.render(message(amount=Cents(123456), day=date(2027, 3, 1), gone=None))
    assert rendered.text == "1.234,56 € 01/03/2027 "


def test_html_is_escaped_and_text_is_not(scratch: Renderer) -> None:
    write(scratch, "{{ recipient.name }}")
    rendered = scratch.render(message())
    assert rendered.text == "Rossi <b>&</b> Figli"
    assert rendered.html == "Rossi &lt;b&gt;&amp;&lt;/b&gt; Figli"


def test_a_subject_is_one_line(scratch: Renderer) -> None:
    write(scratch, "  one\n two\r\n three  \n")
    assert scratch.render(message()).subject == "one two three"


def test_every_template_exists_in_every_language() -> None:
    templates = Path(__file__).parents[1] / "src/rinnovo/notifier/templates"
    for locale in ("it", "en"):
        for template in Template:
            for suffix in ("subject.txt", "txt", "html"):
                assert (templates / locale / f"{template.value}.{suffix}").is_file()
