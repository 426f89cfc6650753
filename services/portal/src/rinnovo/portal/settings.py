"""The portal's settings (``RINNOVO_PORTAL_*``): where the APIs are, how customers sign in."""

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from rinnovo.runtime.settings import ServiceSettings

Language = Literal["it", "en"]


class PortalSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RINNOVO_PORTAL_", extra="ignore")

    http_port: int = 8000
    # In development mode (RINNOVO_DEV_MODE, the runtime's one switch) the portal also offers
    # a sign-in page that mints demo customers' tokens, and creates demo data.
    demo_data: bool = Field(default=True, description="In development mode, create demo services.")
    orders_url: str = "http://127.0.0.1:8002"
    payments_url: str = "http://127.0.0.1:8003"
    notifier_url: str = "http://127.0.0.1:8004"
    upstream_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    session_cookie: str = Field(
        default="rinnovo_session",
        description="The cookie in which the identity provider leaves the platform's token.",
    )
    signin_url: str = Field(
        default="",
        description="The identity provider's sign-in page; `?next=` is added. Empty: the portal "
        "only says that the customer must sign in.",
    )
    csrf_secret: SecretStr | None = Field(
        default=None,
        description="Key of the forms' CSRF tokens. Unset, each process draws a random one: set "
        "it when several replicas serve the same customers.",
    )
    catalog_cache_seconds: float = Field(
        default=60.0, ge=0, description="How long a product list (names, terms, options) is kept."
    )
    default_language: Language = "it"

    def addresses(self, name: str) -> list[tuple[str, str]]:
        return [("customer area (portal)", self.api_url())]
