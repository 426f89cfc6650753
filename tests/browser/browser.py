"""Debian's Chromium driven by Playwright, and what every browser test checks on a page.

Playwright's own browser builds cannot be downloaded here: the tests launch
``/usr/bin/chromium`` (``make browser`` installs it) with a fresh profile each time. axe-core
comes from npm, pinned in ``axe/package-lock.json`` and installed into the cache on first use.
"""

import contextlib
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import BrowserContext, Page, async_playwright

from rinnovo.devstack import cache_dir
from rinnovo.devstack._paths import fingerprint
from rinnovo.devstack._server import cached_install

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = Path(__file__).resolve().parent / "axe"
SERIOUS = {"serious", "critical"}
INTERACTIVE = "a[href], button, input:not([type=hidden]), select, textarea, summary"


@contextlib.asynccontextmanager
async def chromium(profile: Path) -> AsyncIterator[BrowserContext]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium")
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=FLAGS,
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(30_000)
        try:
            yield context
        finally:
            await context.close()


def axe_source() -> str:
    """axe.min.js of the pinned axe-core, installed with ``npm ci`` the first time."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is missing: axe-core is installed from npm")
    manifest = [AXE / "package.json", AXE / "package-lock.json"]

    def install(target: Path) -> None:
        for file in manifest:
            shutil.copy2(file, target / file.name)
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=target,
            check=True,
            timeout=600,
        )

    digest = fingerprint(manifest, "npm ci")
    target = cache_dir() / f"portal-axe-{digest[:12]}"
    folder = cached_install(target, digest, install, what="axe-core")
    return (folder / "node_modules" / "axe-core" / "axe.min.js").read_text()


async def serious_violations(page: Page, axe: str) -> list[dict[str, Any]]:
    """What axe-core finds in the page as it is now, of serious or critical impact."""
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.evaluate(axe)
    found: dict[str, Any] = await page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in found["violations"]
        if v["impact"] in SERIOUS
    ]


async def unreachable_by_keyboard(page: Page) -> list[str]:
    """The visible controls of the page that pressing Tab never reaches (a group of radio
    buttons is one stop: the arrow keys move inside it)."""
    keys: list[str] = await page.evaluate(
        """selector => {
            const shown = [...document.querySelectorAll(selector)].filter(
                e => e.checkVisibility() && !e.disabled);
            shown.forEach((e, i) => e.dataset.keyboardCheck =
                e.type === "radio" ? `radio ${e.name}` : String(i));
            return [...new Set(shown.map(e => e.dataset.keyboardCheck))];
        }""",
        INTERACTIVE,
    )
    await page.evaluate("() => document.activeElement && document.activeElement.blur()")
    reached: set[str] = set()
    for _ in range(len(keys) + 10):
        await page.keyboard.press("Tab")
        reached.add(await page.evaluate("() => document.activeElement.dataset.keyboardCheck"))
    return [
        await page.evaluate(
            "k => document.querySelector(`[data-keyboard-check='${k}']`).outerHTML.slice(0, 120)",
            key,
        )
        for key in keys
        if key not in reached
    ]


def screenshots_dir(default: Path) -> Path:
    """Where screenshots go: ``RINNOVO_PORTAL_SCREENSHOTS`` (``make portal-screenshots``
    writes docs/portal/), else the test's own folder."""
    folder = Path(os.environ.get("RINNOVO_PORTAL_SCREENSHOTS", default))
    folder.mkdir(parents=True, exist_ok=True)
    return folder
