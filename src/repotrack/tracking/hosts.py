"""Which hosts an upstream URL may point at: private and loopback ranges refused by default.

An item's ``scm_repo`` is chosen by whoever may POST to the API; without a rule it can
make the tracker connect to internal services (``git://127.0.0.1``, ``http://10.0.0.5``,
``localhost:/path`` over ssh) and tell from the error what answered. The rule, in order:

1. a host matching ``[tracking] upstream_deny_hosts`` is refused;
2. a host matching ``[tracking] upstream_allow_hosts`` is allowed (this is how a private
   git server, or a test's loopback server, is let in: explicitly);
3. otherwise every address the name resolves to must be public: loopback, private
   (RFC 1918, ULA), link-local, CGNAT, multicast, reserved and unspecified addresses
   are refused. A name that does not resolve is left to git, which fails on it.

Entries are host names (exact, case-insensitive; ``*.example.org`` for sub-domains),
addresses, or networks (``10.0.0.0/8``). The check runs before any mirror directory
or lock file is made, so a refused URL leaves nothing behind. Local paths and
``file://`` are governed by ``allow_local_upstreams`` instead.

Resolution is checked here and again by git when it connects; a DNS answer that changes
in between (rebinding) is not caught. Answers are cached for a few minutes per policy.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
import time
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from repotrack.errors import ConfigError, InputError

__all__ = ["HostPolicy", "url_host"]

_Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
#: Seconds a resolved address list is reused.
_CACHE_TTL = 300.0
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_SCP = re.compile(r"^(?:[^@/:\s]+@)?(?P<host>\[[^\]]+\]|[A-Za-z0-9._-]+):")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


def url_host(url: str) -> str | None:
    """The host a network git URL connects to, or None for a local path."""
    if _SCHEME.match(url):
        try:
            return urlsplit(url).hostname
        except ValueError:
            return None
    scp = _SCP.match(url)
    if scp is not None and "/" not in url.split(":", 1)[0]:
        return scp.group("host").strip("[]").lower()
    return None


def _is_internal(address: _Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv4Address) and address in _CGNAT)
    )


class _Rules:
    """Parsed entries of one list: names, ``*.`` suffixes and networks."""

    def __init__(self, entries: Sequence[str], key: str) -> None:
        self.names: set[str] = set()
        self.suffixes: list[str] = []
        self.networks: list[_Network] = []
        for raw in entries:
            entry = raw.strip().lower().strip("[]")
            if not entry:
                continue
            if entry.startswith("*."):
                self.suffixes.append(entry[1:])
                continue
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                if not re.fullmatch(r"[a-z0-9._-]+", entry):
                    raise ConfigError(f"not a host, address or network: {raw!r}", key=key) from None
                self.names.add(entry)

    def match(self, host: str, addresses: Sequence[_Address]) -> bool:
        if host in self.names or any(host.endswith(suffix) for suffix in self.suffixes):
            return True
        return any(address in network for address in addresses for network in self.networks)


class HostPolicy:
    """The allow/deny rule for upstream hosts (module docstring); thread-safe."""

    def __init__(
        self,
        *,
        allow: Sequence[str] = (),
        deny: Sequence[str] = (),
        resolve: Callable[[str], list[str]] | None = None,
    ) -> None:
        self.allow = _Rules(allow, "tracking.upstream_allow_hosts")
        self.deny = _Rules(deny, "tracking.upstream_deny_hosts")
        self._resolve = resolve or _resolve
        self._cache: dict[str, tuple[float, list[_Address]]] = {}
        self._lock = threading.Lock()

    def check(self, url: str, *, field: str = "scm_repo", shown: str | None = None) -> None:
        """Raise ``InputError`` naming the field when ``url``'s host is not allowed."""
        host = url_host(url)
        if host is None:
            return
        host = host.lower()
        addresses = self._addresses(host)
        where = shown or url
        if self.deny.match(host, addresses):
            raise InputError(
                f"upstream host {host!r} is refused (tracking.upstream_deny_hosts): {where}",
                field=field,
            )
        if self.allow.match(host, addresses):
            return
        internal = [str(a) for a in addresses if _is_internal(a)]
        if internal:
            raise InputError(
                f"upstream host {host!r} is a private or loopback address ({internal[0]}); "
                f"allow it in tracking.upstream_allow_hosts if it is meant: {where}",
                field=field,
            )

    def _addresses(self, host: str) -> list[_Address]:
        try:
            return [ipaddress.ip_address(host)]
        except ValueError:
            pass
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(host)
            if cached is not None and cached[0] > now:
                return cached[1]
        found = []
        for text in self._resolve(host):
            try:
                found.append(ipaddress.ip_address(text.split("%", 1)[0]))
            except ValueError:
                continue
        with self._lock:
            self._cache[host] = (now + _CACHE_TTL, found)
        return found


def _resolve(host: str) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return [str(info[4][0]) for info in infos]
