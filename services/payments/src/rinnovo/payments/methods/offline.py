"""Methods the customer pays on their own, registered when a bank statement is reconciled."""

from rinnovo.contracts.payments import InstructionsKind
from rinnovo.payments.domain.payments import Instructions
from rinnovo.payments.methods.base import MethodContext, PaymentMethod, PaymentRequest


class BankTransfer:
    """*Bonifico*: to the beneficiary's IBAN, quoting the order number."""

    name = "bank_transfer"
    usual_registration_days = 2

    def __init__(self, context: MethodContext) -> None:
        self._context = context

    def instructions(self, request: PaymentRequest) -> Instructions:
        c = self._context
        return Instructions(
            kind=InstructionsKind.BANK_TRANSFER.value,
            reference=request.order_number,
            amount_cents=request.amount_cents,
            due_date=request.due_date,
            beneficiary=c.beneficiary,
            iban=c.iban,
            bic=c.bic,
        )


class PostalSlip:
    """*Bollettino postale*: to the beneficiary's postal account, quoting the order number."""

    name = "postal_slip"
    usual_registration_days = 4

    def __init__(self, context: MethodContext) -> None:
        self._context = context

    def instructions(self, request: PaymentRequest) -> Instructions:
        c = self._context
        return Instructions(
            kind=InstructionsKind.POSTAL_SLIP.value,
            reference=request.order_number,
            amount_cents=request.amount_cents,
            due_date=request.due_date,
            beneficiary=c.beneficiary,
            postal_account=c.postal_account,
        )


class BankTransferPlugin:
    name = "bank_transfer"
    description = "Bank transfer (bonifico) to the beneficiary's IBAN; reconciled from statements."

    def create(self, context: MethodContext) -> PaymentMethod:
        return BankTransfer(context)


class PostalSlipPlugin:
    name = "postal_slip"
    description = "Postal slip (bollettino) to the postal account; reconciled from statements."

    def create(self, context: MethodContext) -> PaymentMethod:
        return PostalSlip(context)


bank_transfer = BankTransferPlugin()
postal_slip = PostalSlipPlugin()
