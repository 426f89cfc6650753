"""Where webhooks may go: public internet addresses only.

A registered URL could otherwise make the notifier an internal scanner (every attempt's
status is visible): private ranges, loopback, link-local (the cloud metadata service at
169.254.169.254), shared and reserved space, and well-known internal names are refused. The
names are checked when an endpoint is registered; the addresses are checked again for each
connection, after resolving the name, and the connection goes to the address checked
(``channels/guarded_transport.py``), so a name that later resolves elsewhere (DNS rebinding)
gains nothing. Loopback may be allowed for tests, in development mode only.
"""

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

INTERNAL_NAMES = frozenset(
    {"localhost", "metadata", "metadata.google.internal", "metadata.goog", "instance-data"}
)
INTERNAL_SUFFIXES = (".localhost", ".internal", ".local", ".localdomain", ".home.arpa")


class ForbiddenDestination(Exception):
    """The endpoint's address is not a public one."""


@dataclass(frozen=True)
class EgressPolicy:
    allow_loopback: bool = False
    """Tests only (development mode): receivers on this machine."""

    def allows(self, address: IPAddress) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if address.is_loopback:
            return self.allow_loopback
        return address.is_global and not address.is_multicast

    def check_host(self, host: str) -> None:
        """What can be told from the name alone (at registration, without resolving it)."""
        name = host.lower().rstrip(".")
        try:
            address = ipaddress.ip_address(name)
        except ValueError:
            if name in INTERNAL_NAMES or name.endswith(INTERNAL_SUFFIXES):
                loopback = name == "localhost" or name.endswith(".localhost")
                if not (loopback and self.allow_loopback):
                    raise ForbiddenDestination(f"{host} is an internal name") from None
            return
        if not self.allows(address):
            raise ForbiddenDestination(f"{host} is not a public address")

    def check_url(self, url: str) -> None:
        host = urlsplit(url).hostname
        if not host:
            raise ForbiddenDestination("the URL names no host")
        self.check_host(host)
