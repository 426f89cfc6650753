"""An httpx transport that connects only to addresses the egress policy allows.

httpx resolves and connects in httpcore's network backend; this backend resolves the name
itself, refuses the connection if any address is not allowed, and then connects to the
address it checked. TLS still verifies the certificate against the URL's name, which httpcore
passes as the server name: only the TCP connection is pinned.
"""

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from rinnovo.notifier.domain.egress import EgressPolicy, ForbiddenDestination, IPAddress


class GuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, policy: EgressPolicy) -> None:
        self._policy = policy
        self._network = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore names it so)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await _resolve(host, port, timeout)
        if not all(self._policy.allows(a) for a in addresses):
            raise ForbiddenDestination(f"{host} does not resolve to public addresses only")
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._network.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def sleep(self, seconds: float) -> None:
        await self._network.sleep(seconds)


async def _resolve(host: str, port: int, limit: float | None) -> list[IPAddress]:
    try:
        async with asyncio.timeout(limit):
            found = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
    except (OSError, TimeoutError) as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    addresses = [ipaddress.ip_address(info[4][0]) for info in found]
    if not addresses:
        raise httpcore.ConnectError(f"{host} resolves to no address")
    return list(dict.fromkeys(addresses))


class GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, policy: EgressPolicy) -> None:
        super().__init__()
        # httpx builds its pool with the default backend; this one differs only there.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(), network_backend=GuardedBackend(policy)
        )
