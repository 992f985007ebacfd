"""The client's address: the socket peer, unless a trusted proxy says whom it forwards for.

X-Forwarded-For is a list every proxy appends its own peer to, so only its right end can be
believed, and only as far back as the proxies that wrote it are ours. `client_address` starts at
the socket peer and walks the list right to left while the address in hand is a trusted proxy
(``REHEARSE_TRUSTED_PROXIES``); the first address that is not one is the client. With no trusted
proxies (the default) the header is never read.

`rehearse serve` also gives uvicorn the same list (``forwarded_allow_ips``, and ``proxy_headers``
only when it is not empty). uvicorn's ProxyHeadersMiddleware applies the same rule and replaces the
peer with its answer, and that answer is not a trusted proxy (or is the list's first entry when
every entry is one), so walking again here gives the same address: the two never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from ipaddress import IPv4Address, IPv6Address, ip_address

from webapp.core.config import Network

UNKNOWN = "unknown"


def client_address(peer: str | None, forwarded_for: Iterable[str], trusted: Sequence[Network]) -> str:
    """The client's address from the socket ``peer`` and the X-Forwarded-For header values."""
    address = peer or UNKNOWN
    if not trusted or not is_trusted(address, trusted):
        return address
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
    for hop in reversed(hops):
        host = _host(hop)
        if not host:  # an empty entry: the proxy in hand is as far back as anyone vouches for
            break
        address = host
        if not is_trusted(host, trusted):
            break
    return address[:100]


def is_trusted(host: str, trusted: Sequence[Network]) -> bool:
    parsed = _address(host)
    return parsed is not None and any(parsed in network for network in trusted)


def _address(host: str) -> IPv4Address | IPv6Address | None:
    try:
        parsed = ip_address(host)
    except ValueError:
        return None
    if isinstance(parsed, IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped  # a dual-stack socket's ::ffff:10.0.0.5
    return parsed


def _host(hop: str) -> str:
    """An entry's address without its port (``10.0.0.5:1234``, ``[2001:db8::1]:1234``), read as uvicorn reads it:
    anything else malformed is kept whole, so it matches no trusted proxy."""
    if hop.startswith("["):
        end = hop.find("]")
        rest = hop[end + 1:]
        if end == -1 or (rest and not rest.startswith(":")):
            return hop
        return hop[1:end]
    if hop.count(":") == 1:
        host, port = hop.split(":")
        return host if port.isdigit() else hop
    return hop
