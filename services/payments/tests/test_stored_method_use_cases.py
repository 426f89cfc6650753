"""Cards and mandates saved for automatic renewal: stored only as the provider confirms them
for this customer, never from references a customer names. On the in-memory stores (as
``test_payments_providers`` does on the real servers with the Stripe stand-in)."""

from dataclasses import replace

import pytest

from rinnovo.contracts.orders import OrderKind
from rinnovo.payments.service_layer import instructions
from rinnovo.payments.service_layer.stored_methods import (
    confirm_setup,
    start_setup,
    stored_methods_of,
)
from rinnovo.runtime.errors import Invalid
from rinnovo.testing.payments import PaymentsService, order_placed


async def test_a_card_is_stored_once_the_provider_confirms_it_and_renewal_charges_it(
    payments: PaymentsService,
) -> None:
    ctx, stripe = payments.ctx, payments.stripe
    started = await start_setup(ctx, "c001", "card")
    with pytest.raises(Invalid) as early:  # not yet confirmed in the browser
        await confirm_setup(ctx, "c001", "card", started.setup_id)
    assert early.value.field == "setup_id" and "not confirmed" in early.value.reason
    assert await stored_methods_of(ctx, "c001") == []

    pm = stripe.confirm_setup(started.setup_id)
    stored = await confirm_setup(ctx, "c001", "card", started.setup_id)
    assert (stored.provider_customer, stored.provider_method, stored.label) == (
        started.provider_customer,
        pm,
        "Visa **** 4242",
    )
    assert await stored_methods_of(ctx, "c001") == [stored]
    again = await start_setup(ctx, "c001", "sepa_direct_debit")  # the same provider customer
    assert again.provider_customer == started.provider_customer
    assert [what for what, _ in stripe.calls].count("customer") == 1

    # Automatic renewal charges what the provider confirmed.
    stripe.charges = ["succeed"]
    placed = order_placed(1, 12200, "card", OrderKind.AUTOMATIC_RENEWAL)
    await instructions.request_payment(ctx, placed)
    assert await payments.scheduler().sweep() == 1
    assert (await payments.payment("pay-ord-001")).registration is not None
    assert stripe.charged == [(started.provider_customer, pm)]


async def test_a_mandate_keeps_the_provider_s_mandate_reference(payments: PaymentsService) -> None:
    ctx = payments.ctx
    started = await start_setup(ctx, "ann", "sepa_direct_debit")
    payments.stripe.confirm_setup(started.setup_id, last4="3000")
    stored = await confirm_setup(ctx, "ann", "sepa_direct_debit", started.setup_id)
    assert (stored.label, stored.mandate_reference) == (
        "SEPA **** 3000",
        f"mandate_{started.setup_id}",
    )


async def test_another_customers_setup_or_one_not_ours_stores_nothing(
    payments: PaymentsService,
) -> None:
    ctx, stripe = payments.ctx, payments.stripe
    anns = await start_setup(ctx, "ann", "card")
    stripe.confirm_setup(anns.setup_id)
    refusals = [
        ("eve", "card", anns.setup_id),  # eve learnt ann's setup id
        ("eve", "card", "seti_made_elsewhere"),  # never started here
        ("ann", "sepa_direct_debit", anns.setup_id),  # a card is not a mandate
    ]
    for customer, method, setup_id in refusals:
        with pytest.raises(Invalid) as refused:
            await confirm_setup(ctx, customer, method, setup_id)
        assert refused.value.field == "setup_id"
    # The provider reports the setup for another provider customer: not stored either.
    theirs = await start_setup(ctx, "bob", "card")
    stripe.confirm_setup(theirs.setup_id)
    seen = stripe.setups[theirs.setup_id]
    stripe.setups[theirs.setup_id] = replace(seen, method_customer="cus_someone_else")
    with pytest.raises(Invalid):
        await confirm_setup(ctx, "bob", "card", theirs.setup_id)
    for customer in ("eve", "bob"):
        assert await stored_methods_of(ctx, customer) == []
    with pytest.raises(Invalid) as offline:
        await start_setup(ctx, "ann", "bank_transfer")
    assert offline.value.field == "method"
