"""Languages of the pages: Italian by default, English as a switch.

Texts are gettext messages (English ids, Italian in ``locale/it/LC_MESSAGES/messages.po``,
read at start), numbers and amounts are formatted by Babel for the language, and calendar
dates read ``dd/mm/yyyy`` in both, as in the e-mails customers receive.
"""

import gettext
from datetime import date, datetime
from decimal import Decimal
from importlib.resources import files
from io import BytesIO

from babel.core import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import NullTranslations, Translations

from rinnovo.runtime.clock import ROME

LANGUAGES = ("it", "en")
LOCALES = {"it": "it_IT", "en": "en_GB"}
LANGUAGE_COOKIE = "portal_language"
BYTES_PER_GB = Decimal(1_000_000_000)
"""Storage is sold and reported in decimal gigabytes."""


def translations(language: str) -> gettext.NullTranslations:
    """The texts of a language; English is the language of the message ids."""
    if language == "en":
        return NullTranslations()
    po = files("rinnovo.portal") / "locale" / language / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as source:
        catalog = read_po(source, locale=language)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


class Formats:
    """Amounts, sizes and dates as one language shows them."""

    def __init__(self, language: str) -> None:
        self.locale = Locale.parse(LOCALES[language])

    def euro(self, cents: int) -> str:
        return format_currency(Decimal(cents).scaleb(-2), "EUR", locale=self.locale)

    def gigabytes(self, n_bytes: int) -> str:
        size = format_decimal(Decimal(n_bytes) / BYTES_PER_GB, "#,##0.00", locale=self.locale)
        return f"{size} GB"

    def percent(self, value: float) -> str:
        return f"{format_decimal(value, '#,##0.#', locale=self.locale)} %"

    @staticmethod
    def day(value: date) -> str:
        """A calendar date; an instant as the day it is in Rome."""
        if isinstance(value, datetime):
            value = value.astimezone(ROME).date()
        return value.strftime("%d/%m/%Y")

    @staticmethod
    def moment(value: datetime) -> str:
        return value.astimezone(ROME).strftime("%d/%m/%Y %H:%M")
