"""The language of a message: the holder's, when we have templates for it."""

SUPPORTED = ("it", "en")
DEFAULT = "it"


def choose_locale(requested: str | None, default: str = DEFAULT) -> str:
    """``en``, ``EN``, ``en-GB`` and ``en_US`` all mean English; anything unknown or empty
    falls back to the default (Italian), never to an error: a message in the default language
    is better than none."""
    if default not in SUPPORTED:
        raise ValueError(f"default locale {default!r} has no templates")
    primary = (requested or "").strip().replace("_", "-").split("-")[0].lower()
    return primary if primary in SUPPORTED else default
