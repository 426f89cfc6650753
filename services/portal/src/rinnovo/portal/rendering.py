"""Pages rendered on the server: Jinja2 templates, one environment per language.

Every page gets the language, the CSRF token of its forms and the formats of its language,
and is sent with headers that keep it private (``no-store``) and inert elsewhere (a content
security policy that allows only the portal's own scripts and styles, no framing).
"""

import gettext
from typing import Any

from fastapi import Request
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse

from rinnovo.portal.csrf import Csrf
from rinnovo.portal.i18n import LANGUAGE_COOKIE, LANGUAGES, Formats, translations
from rinnovo.portal.labels import LABELS
from rinnovo.portal.settings import PortalSettings

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _environment(
    language: str, texts: gettext.NullTranslations, settings: PortalSettings
) -> Environment:
    env = Environment(
        loader=PackageLoader("rinnovo.portal", "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.policies["ext.i18n.trimmed"] = True  # as the texts are extracted (babel.cfg)
    env.install_gettext_translations(texts, newstyle=True)  # type: ignore[attr-defined]
    formats = Formats(language)

    def label(value: str, kind: str) -> str:
        known = LABELS[kind].get(value)
        return texts.gettext(known) if known else value

    env.filters.update(
        label=label,
        euro=formats.euro,
        gb=formats.gigabytes,
        percent=formats.percent,
        day=formats.day,
        moment=formats.moment,
    )
    env.globals.update(
        lang=language,
        dev_mode=settings.dev_mode,
    )
    return env


class Pages:
    def __init__(self, settings: PortalSettings, csrf: Csrf) -> None:
        self.settings = settings
        self.csrf = csrf
        self.texts = {lang: translations(lang) for lang in LANGUAGES}
        self.environments = {
            lang: _environment(lang, self.texts[lang], settings) for lang in LANGUAGES
        }

    def language(self, request: Request) -> str:
        chosen = request.cookies.get(LANGUAGE_COOKIE, "")
        return chosen if chosen in LANGUAGES else self.settings.default_language

    def text(self, request: Request, message: str, **values: Any) -> str:
        """A message in the page's language, for the few texts made outside templates."""
        text = self.texts[self.language(request)].gettext(message)
        return text % values if values else text

    def render(
        self, request: Request, template: str, *, status: int = 200, **context: Any
    ) -> HTMLResponse:
        language = self.language(request)
        nonce, new = self.csrf.nonce(request)
        html = (
            self.environments[language]
            .get_template(template)
            .render(
                request=request,
                path=request.url.path,
                csrf_token=self.csrf.token(nonce),
                signed_in=context.pop("signed_in", True),
                **context,
            )
        )
        response = HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
        if new:
            self.csrf.set_cookie(response, nonce)
        return response
