"""The README names every verb of the Makefile a developer runs, and where data is kept."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INTERNAL = {"help", "setup", "format", "chromium"}
"""Steps other verbs run, not verbs of their own."""


def verbs() -> set[str]:
    makefile = (ROOT / "Makefile").read_text()
    phony = re.search(r"^\.PHONY:(.*)$", makefile, re.MULTILINE)
    assert phony, "the Makefile declares no .PHONY targets"
    return set(phony.group(1).split()) - INTERNAL


def test_every_verb_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = sorted(v for v in verbs() if not re.search(rf"\bmake {re.escape(v)}\b", readme))
    assert missing == [], f"verbs the README does not name: {missing}"


def test_the_readme_says_where_data_is_kept_and_how_to_clear_it() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "~/.cache/rinnovo/data" in readme
    assert "make clean-data" in readme
    help_text = (ROOT / "Makefile").read_text().split("help:", 1)[1].split("\n\n", 1)[0]
    assert "make clean-data" in help_text
