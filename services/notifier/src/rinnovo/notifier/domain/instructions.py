"""The payment instructions an order confirmation shows, complete or refused."""

from typing import Any

from rinnovo.contracts.payments import InstructionsKind, PaymentInstructions
from rinnovo.notifier.domain.formatting import Cents
from rinnovo.notifier.domain.messages import CannotNotify

REQUIRED_INSTRUCTIONS = {
    InstructionsKind.BANK_TRANSFER: ("beneficiary", "iban"),
    InstructionsKind.POSTAL_SLIP: ("beneficiary", "postal_account"),
    InstructionsKind.CHECKOUT_LINK: ("checkout_url",),
}


def instruction_facts(instructions: PaymentInstructions) -> dict[str, Any]:
    """What a customer is shown to pay by hand; instructions lacking what they need (an
    IBAN, a postal account, a link) cannot be sent."""
    missing = [
        name
        for name in REQUIRED_INSTRUCTIONS.get(instructions.kind, ())
        if not getattr(instructions, name)
    ]
    if missing:
        raise CannotNotify(
            "incomplete_instructions",
            f"{instructions.kind.value} instructions lack {', '.join(missing)}",
        )
    return {
        "kind": instructions.kind.value,
        "reference": instructions.reference,
        "amount_cents": Cents(instructions.amount_cents),
        "due_date": instructions.due_date,
        "beneficiary": instructions.beneficiary,
        "iban": instructions.iban,
        "bic": instructions.bic,
        "postal_account": instructions.postal_account,
        "checkout_url": instructions.checkout_url,
    }
