"""The payment methods loaded here, and what each can do beyond giving instructions."""

from collections.abc import Mapping

from rinnovo.payments.methods.base import (
    CallbackProvider,
    ChargesStoredMethod,
    ConfirmedByProvider,
    PaymentMethod,
    Refunds,
)


class Methods:
    def __init__(self, methods: Mapping[str, PaymentMethod]) -> None:
        self._methods = dict(methods)

    def get(self, name: str) -> PaymentMethod | None:
        return self._methods.get(name)

    def offered(self) -> list[PaymentMethod]:
        return [self._methods[name] for name in self.names()]

    def chargeable(self) -> list[str]:
        """The methods automatic renewal can charge without the customer."""
        return sorted(n for n, m in self._methods.items() if isinstance(m, ChargesStoredMethod))

    def provider_of(self, method: PaymentMethod) -> CallbackProvider | None:
        return method.provider if isinstance(method, ConfirmedByProvider) else None

    def provider(self, name: str) -> CallbackProvider | None:
        """The provider whose signed callbacks arrive as ``name``."""
        for method in self._methods.values():
            provider = self.provider_of(method)
            if provider is not None and provider.name == name:
                return provider
        return None

    def refunder(self, provider_name: str) -> Refunds | None:
        """A method that refunds through the provider ``provider_name``."""
        for method in self._methods.values():
            provider = self.provider_of(method)
            if isinstance(method, Refunds) and provider and provider.name == provider_name:
                return method
        return None

    def names(self) -> list[str]:
        return sorted(self._methods)
