"""Provider methods are on only with their provider's keys: a callback signed with a
placeholder key never marks an order paid. The app is not started: a request that reached
the database would fail the test."""

import pytest
from httpx import ASGITransport, AsyncClient
from pydantic import SecretStr

from rinnovo.payments.bootstrap import PaymentsSettings, build
from rinnovo.runtime.safety import InsecureSetting
from rinnovo.testing.payment_providers import checkout_completed, stripe_signature

KEYS = {"stripe_api_key": "sk_test_" + "k" * 24, "stripe_webhook_secret": "whsec_" + "s" * 32}


def test_without_stripe_keys_only_the_offline_methods_are_on() -> None:
    assert PaymentsSettings().enabled_methods() == ["bank_transfer", "postal_slip"]
    assert PaymentsSettings(**KEYS).enabled_methods() == [
        "bank_transfer",
        "postal_slip",
        "card",
        "paypal",
        "sepa_direct_debit",
    ]


async def test_a_callback_signed_with_the_old_placeholder_key_finds_no_provider() -> None:
    built = build(PaymentsSettings())
    body = checkout_completed("pay-forged", 3050, "pi_forged")
    async with AsyncClient(transport=ASGITransport(built.app), base_url="http://p") as client:
        answer = await client.post(
            "/v1/providers/stripe/callback",
            content=body,
            headers=stripe_signature(body, "whsec_not_configured"),
        )
    assert answer.status_code == 404, answer.text


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"methods": ["bank_transfer", "card"]}, "RINNOVO_PAYMENTS_STRIPE_API_KEY"),
        (
            {"methods": ["paypal"], "stripe_api_key": KEYS["stripe_api_key"]},
            "RINNOVO_PAYMENTS_STRIPE_WEBHOOK_SECRET",
        ),
        (
            {
                "methods": ["sepa_direct_debit"],
                "stripe_api_key": KEYS["stripe_api_key"],
                "stripe_webhook_secret": SecretStr("whsec_not_configured"),
            },
            "RINNOVO_PAYMENTS_STRIPE_WEBHOOK_SECRET",
        ),
    ],
)
def test_a_provider_method_with_a_placeholder_key_refuses_to_start(
    settings: dict[str, object], named: str
) -> None:
    with pytest.raises(InsecureSetting) as refused:
        build(PaymentsSettings.model_validate(settings))
    assert refused.value.setting == named
