"""What the pages read from the APIs: the portal's own, tolerant view of their answers.

Only the fields a page shows are declared and anything else is ignored, so a service can add
fields without breaking the portal. Nothing here is computed: colours, actions, amounts and
dates are the services' own.
"""

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict


class View(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Actions(View):
    renew: bool
    upgrade: bool
    reactivate: bool
    manage: bool = True


class AutomaticRenewal(View):
    enabled: bool
    term_years: int
    payment_method: str | None
    switchable: bool


class Card(View):
    service_id: str
    username: str
    product_id: str
    status: str
    expiry_date: date | None
    expiry_warning: bool
    days_to_expiry: int | None
    storage_quota_gb: int
    storage_used_bytes: int
    storage_used_percent: float
    storage_warning: bool
    reactivation_deadline: date | None
    actions: Actions
    automatic_renewal: AutomaticRenewal
    help_url: str


class Option(View):
    option_id: str
    kind: str
    name: str
    included: int
    max_quantity: int
    step: int = 1


class Product(View):
    product_id: str
    name: str
    promotional: bool
    allowed_terms_years: tuple[int, ...]
    options: tuple[Option, ...]

    def option(self, kind: str) -> Option | None:
        return next((o for o in self.options if o.kind == kind), None)


class Components(View):
    storage_gb: int
    extra_users: int
    nso: bool


class QuoteLine(View):
    item: str
    description: str
    quantity: int
    unit_yearly_cents: int
    years: int
    days: int | None
    amount_cents: int


class Discount(View):
    code: str
    description: str
    amount_cents: int


class Quote(View):
    lines: tuple[QuoteLine, ...]
    subtotal_cents: int
    discount: Discount | None
    net_cents: int
    vat_rate_basis_points: int
    vat_cents: int
    total_cents: int


class Document(View):
    document: str
    version: str
    url: str


class Terms(View):
    """What a checkout asks to accept, and the methods orders accepts."""

    acceptances: tuple[Document, ...]
    payment_methods: tuple[str, ...]
    automatic_renewal_methods: tuple[str, ...]

    def document(self, name: str) -> Document | None:
        return next((d for d in self.acceptances if d.document == name), None)


class Cart(View):
    cart_id: str
    kind: str
    service_id: str | None
    product_id: str
    active_components: Components | None
    components: Components
    term_years: int
    payment_method: str | None
    automatic_renewal: bool
    convention_code: str | None
    changeable: tuple[str, ...]
    quote: Quote
    terms: Terms


class Order(View):
    order_id: str
    number: str
    kind: str
    service_id: str
    placed_at: datetime
    status: str
    total_cents: int
    quantity_gb: int
    years: int
    payment_method: str
    payment_due: date
    actions: dict[str, bool]

    @property
    def can_pay(self) -> bool:
        return self.actions.get("pay", False)

    @property
    def can_cancel(self) -> bool:
        return self.actions.get("cancel", False)


class PastEvent(View):
    at: datetime
    event: str
    expiry_date: date | None
    order_id: str | None


class Upcoming(View):
    milestone: str
    day: date


class Timeline(View):
    service_id: str
    past: tuple[PastEvent, ...]
    upcoming: tuple[Upcoming, ...]


class Instructions(View):
    kind: str
    reference: str
    amount_cents: int
    due_date: date
    beneficiary: str | None
    iban: str | None
    bic: str | None
    postal_account: str | None
    checkout_url: str | None


class Payment(View):
    payment_id: str
    order_id: str
    order_number: str
    method: str
    status: str
    amount_cents: int
    instructions: Instructions
    usual_registration_days: int


class Method(View):
    name: str
    usual_registration_days: int


class Message(View):
    notification_id: str
    channel: str
    template: str
    recipient: str
    subject: str | None
    status: str
    created_at: datetime
    sent_at: datetime | None


class MessageText(Message):
    text: str | None
