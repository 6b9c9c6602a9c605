"""The one function that resolves a request's client address (audit.context)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory

from audit.context import client_address

PROXY = "10.0.0.254"


def _request(forwarded: str | None = None, peer: str = PROXY):
    extra: dict[str, Any] = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_a_proxy_the_peer_is_the_client_and_the_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(_request("203.0.113.5", peer="192.0.2.1")) == "192.0.2.1"


@pytest.mark.parametrize(
    ("count", "forwarded", "client"),
    [
        (1, "203.0.113.5", "203.0.113.5"),
        (1, "1.1.1.1, 203.0.113.5", "203.0.113.5"),  # the left entry is the client's own
        (1, "1.1.1.1,203.0.113.5,", "203.0.113.5"),  # an empty entry is no entry
        (2, "203.0.113.5, 10.0.0.1", "203.0.113.5"),
        (2, "1.1.1.1, 203.0.113.5, 10.0.0.1", "203.0.113.5"),
        (1, "203.0.113.5:52114", "203.0.113.5"),
        (1, "[2001:db8::1]:443", "2001:db8::1"),
        (1, "2001:DB8:0:0::1", "2001:db8::1"),
        (1, "::ffff:203.0.113.5", "203.0.113.5"),
        (1, "fe80::1%eth0", "fe80::1"),
    ],
)
def test_behind_proxies_the_client_is_that_many_entries_from_the_right(
    settings, count, forwarded, client
):
    settings.TRUSTED_PROXY_COUNT = count
    assert client_address(_request(forwarded)) == client


@pytest.mark.parametrize(
    ("count", "forwarded"),
    [(1, None), (1, ""), (1, " , "), (2, "203.0.113.5"), (1, "unknown"), (1, "1.1.1.1, x")],
)
def test_a_short_or_unreadable_header_gives_the_direct_peer(settings, count, forwarded):
    settings.TRUSTED_PROXY_COUNT = count
    assert client_address(_request(forwarded)) == PROXY


def test_no_address_at_all_is_none(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_address(_request(None, peer="")) is None
