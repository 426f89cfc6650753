"""Every text of the pages exists in Italian, and amounts and dates read as each language
reads them."""

import re
from datetime import UTC, date, datetime
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from rinnovo.portal.i18n import Formats

PORTAL = Path(__file__).resolve().parents[1]
PO = PORTAL / "src/rinnovo/portal/locale/it/LC_MESSAGES/messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def texts_in_the_code() -> set[str | tuple[str, ...]]:
    """What ``pybabel extract -F babel.cfg -k N_ -k text:2`` finds (see docs/portal.md)."""
    method_map = [("src/**.py", "python"), ("src/**/templates/**.html", "jinja2")]
    options = {"src/**/templates/**.html": {"trimmed": "true"}}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "text": (2,)}
    found: set[str | tuple[str, ...]] = set()
    for _, _, message, _, _ in extract_from_dir(
        PORTAL, method_map, options_map=options, keywords=keywords
    ):
        found.add(message)
    return found


def test_every_text_has_its_italian() -> None:
    with PO.open("rb") as source:
        catalog = read_po(source)
    translated = {m.id: m.string for m in catalog if m.id and not m.fuzzy}
    wanted = texts_in_the_code()
    assert len(wanted) > 150
    missing = [text for text in wanted if not translated.get(text)]
    assert missing == []
    for text in wanted:
        italian = translated[text]
        forms = italian if isinstance(italian, tuple) else (italian,)
        ids = text if isinstance(text, tuple) else (text,)
        assert all(forms), text
        for form in forms:
            assert set(PLACEHOLDER.findall(form)) == set(PLACEHOLDER.findall(ids[-1])), text


def test_no_text_is_left_over_in_the_translations() -> None:
    with PO.open("rb") as source:
        catalog = read_po(source)
    kept = {m.id for m in catalog if m.id}
    assert kept - texts_in_the_code() == set()


def test_amounts_and_dates_in_each_language() -> None:
    italian, english = Formats("it"), Formats("en")
    assert italian.euro(123456) == "1.234,56\xa0€"
    assert english.euro(123456) == "€1,234.56"
    assert italian.euro(-5) == "-0,05\xa0€"
    assert italian.gigabytes(8_500_000_000) == "8,50 GB"
    assert english.gigabytes(8_500_000_000) == "8.50 GB"
    assert italian.percent(85.0) == "85 %" and italian.percent(12.5) == "12,5 %"
    assert italian.day(date(2027, 3, 1)) == english.day(date(2027, 3, 1)) == "01/03/2027"
    # An instant is the day it is in Rome: 23:30 UTC on 31 December is already 1 January.
    assert italian.day(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == "01/01/2027"
