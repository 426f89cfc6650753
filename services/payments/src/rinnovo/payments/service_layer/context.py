"""What every payments use case works with: its aggregates' ``Changes``, the catalog
replica, the method plugins, the clock and the policies."""

from dataclasses import dataclass
from datetime import datetime

from rinnovo.payments.domain.callbacks import ProcessedCallback
from rinnovo.payments.domain.payments import Payment
from rinnovo.payments.domain.reviews import ReviewItem
from rinnovo.payments.domain.statement_import import BankCredit, ImportRecord
from rinnovo.payments.methods.base import StoredMethod
from rinnovo.payments.methods.registry import Methods
from rinnovo.payments.service_layer.ports import Policies, Products
from rinnovo.runtime.changes import Changes, Stored
from rinnovo.runtime.clock import Clock


@dataclass(frozen=True)
class Context:
    payments: Changes[Payment]
    reviews: Changes[ReviewItem]
    bank: Changes[BankCredit]
    statements: Changes[ImportRecord]
    stored_methods: Changes[StoredMethod]
    callbacks: Changes[ProcessedCallback]
    products: Products
    methods: Methods
    clock: Clock
    policies: Policies

    def now(self) -> datetime:
        return self.clock.now()

    async def payment_of_order(self, number: str) -> Stored[Payment] | None:
        """The payment of the order numbered ``number``, if any."""
        found = await self.payments.find({"order_number": number}, limit=1)
        return found[0] if found else None
