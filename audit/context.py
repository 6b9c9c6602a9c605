"""The request an audit event belongs to, carried in a context variable, and the client
address of a request (the one function that resolves it)."""

from __future__ import annotations

import contextvars
import ipaddress
import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "audit_request_context", default=None
)


@dataclass
class RequestContext:
    request_id: str
    source_ip: str | None
    request: Any = field(default=None, repr=False)

    @property
    def user(self) -> Any:
        user = getattr(self.request, "user", None)
        return user if user is not None and user.is_authenticated else None


def current() -> RequestContext | None:
    return _current.get()


def activate(context: RequestContext) -> contextvars.Token:
    return _current.set(context)


def deactivate(token: contextvars.Token) -> None:
    _current.reset(token)


_short_header_reported = False


def client_address(request: Any) -> str | None:
    """The address of the client that sent `request`.

    Everything that needs the client's address calls this: the audit trail (each event's
    source address), the login policy (django-axes, through AXES_CLIENT_IP_CALLABLE) and
    the lockout screen, so that they always name the same address.

    Without a proxy (TRUSTED_PROXY_COUNT 0) it is the direct peer, REMOTE_ADDR. Behind
    TRUSTED_PROXY_COUNT proxies, each of which appends the address it received the
    request from to X-Forwarded-For, the client is the entry that many places from the
    right; entries further left were written by the client and are never trusted. A
    request whose header has fewer entries did not pass through every proxy, so none of
    its entries is vouched for: the direct peer is used, which the client cannot choose
    (at worst such requests share the proxy's address, and so its lockout bucket).
    """
    peer = parse_address(request.META.get("REMOTE_ADDR", ""))
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if not count:
        return peer
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    entries = [entry.strip() for entry in forwarded.split(",") if entry.strip()]
    if len(entries) < count:
        _report_short_header(len(entries), count)
        return peer
    return parse_address(entries[-count]) or peer


def parse_address(value: str) -> str | None:
    """A normalised IP address from a header or form value (a port and an IPv6 zone are
    dropped, an IPv4-mapped IPv6 address becomes IPv4), or None."""
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [2001:db8::1]:443
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # 192.0.2.1:443
        value = value.partition(":")[0]
    value = value.partition("%")[0]  # an IPv6 zone is local to the proxy's host
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def _report_short_header(entries: int, count: int) -> None:
    # Once per process: a health check from the proxy itself may do this on every probe;
    # every request doing it means TRUSTED_PROXY_COUNT is larger than the proxy chain.
    global _short_header_reported
    if not _short_header_reported:
        _short_header_reported = True
        logger.warning(
            "A request arrived with %d X-Forwarded-For entries, fewer than "
            "TRUSTED_PROXY_COUNT=%d; its direct peer is taken as the client. If every "
            "request does this, TRUSTED_PROXY_COUNT is larger than the number of proxies.",
            entries,
            count,
        )
