"""The names of the services' values on the pages, in the notifier's words.

A table rather than template macros: a card shows a dozen of them, and a lookup is what a
page of fifty cards can afford. Each text is translated when shown (``label`` filter).
"""


def N_(message: str) -> str:
    """Marks a text for translation where it is declared; it is translated when shown."""
    return message


LABELS: dict[str, dict[str, str]] = {
    "status": {
        "active": N_("Active"),
        "expired": N_("Expired"),
        "deactivated": N_("Deactivated"),
        "pending_activation": N_("Awaiting activation"),
    },
    "order_status": {
        "awaiting_payment": N_("Awaiting payment"),
        "paid": N_("Completed"),
        "cancelled": N_("Cancelled"),
    },
    "order_kind": {
        "first_purchase": N_("First purchase"),
        "renewal": N_("Renewal"),
        "reactivation": N_("Reactivation"),
        "upgrade": N_("Upgrade"),
        "automatic_renewal": N_("Automatic renewal"),
    },
    "method": {
        "card": N_("payment card"),
        "sepa_direct_debit": N_("SEPA direct debit"),
        "paypal": "PayPal",
        "bank_transfer": N_("bank transfer"),
        "postal_slip": N_("postal payment slip"),
    },
    "past_event": {
        "activated": N_("Service activated"),
        "renewed": N_("Renewed"),
        "reactivated": N_("Reactivated"),
        "upgraded": N_("Upgraded"),
        "automatic_renewal_switched": N_("Automatic renewal switched"),
        "automatic_renewal_upcoming": N_("Automatic renewal notice sent"),
        "expiring": N_("Expiry reminder sent"),
        "expired": N_("Expired"),
        "reactivation_window_closing": N_("Reactivation window closing"),
        "deactivated": N_("Deactivated"),
        "storage_threshold_crossed": N_("Storage almost full"),
    },
    "milestone": {
        "reminder": N_("Expiry reminder"),
        "automatic_renewal_notice": N_("Notice of the automatic renewal charge"),
        "automatic_renewal": N_("Automatic renewal charge"),
        "expiry": N_("Expiry"),
        "window_closing": N_("Reactivation window closing soon"),
        "deactivation": N_("Deactivation, at the end of the reactivation window"),
    },
    "message_status": {
        "sent": N_("Sent"),
        "pending": N_("Being sent"),
        "failed": N_("Not delivered"),
    },
}
