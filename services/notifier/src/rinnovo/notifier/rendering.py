"""Messages rendered from Jinja2 templates, one directory per language.

``<locale>/<template>.subject.txt``, ``.txt`` and ``.html`` per message. HTML is autoescaped.
Nothing renders silently wrong: an undefined name, ``None``, a raw amount in cents, a date not
formatted as gg/mm/aaaa or a bare boolean stops the rendering with an error instead of
reaching a customer.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import jinja2

from rinnovo.notifier.domain.formatting import Cents, data, euro, gigabytes
from rinnovo.notifier.domain.messages import CannotNotify, Message

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


class NotShowable(TypeError):
    pass


def _shown(value: Any) -> Any:
    """Every ``{{ ... }}`` passes here last (Jinja's ``finalize``)."""
    if value is None:
        raise NotShowable("a template tried to show None; guard it with {% if %}")
    if isinstance(value, Cents):
        raise NotShowable(f"raw cents ({int(value)}) in a template; use |euro")
    if isinstance(value, date):
        raise NotShowable(f"unformatted date {value.isoformat()}; use |data")
    if isinstance(value, bool):
        raise NotShowable("a bare boolean in a template; use {% if %}")
    return value


class Renderer:
    def __init__(self, globals_: Mapping[str, Any], directory: Path = TEMPLATES) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(directory),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
            undefined=jinja2.StrictUndefined,
            finalize=_shown,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,
        )
        self.env.filters.update(euro=euro, data=data, gb=gigabytes)
        self.env.globals.update(globals_)

    def render(self, message: Message) -> Rendered:
        context = {**message.facts, "recipient": message.recipient}
        base = f"{message.recipient.locale}/{message.template.value}"
        try:
            subject = self.env.get_template(f"{base}.subject.txt").render(context)
            text = self.env.get_template(f"{base}.txt").render(context)
            html = self.env.get_template(f"{base}.html").render(context)
        except (jinja2.TemplateError, NotShowable, TypeError, ValueError) as exc:
            raise CannotNotify("template_error", f"{base}: {type(exc).__name__}: {exc}") from exc
        # A subject is one header line, whatever the template's layout.
        return Rendered(subject=" ".join(subject.split()), text=text, html=html)
