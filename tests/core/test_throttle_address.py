"""The address an anonymous caller is counted by (settings.NUM_PROXIES, DRF's get_ident): without
proxies the connection's own, whatever X-Forwarded-For says; behind N proxies the N-th hop from
the right of that header. Both throttled surfaces: the API's throttle itself and Open311's public
reads, which count through it."""

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.test import Client
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from enforcement.api_keys import ApiKeyRateThrottle

pytestmark = pytest.mark.django_db

SERVICES = "/open311/v2/services.json"


@pytest.fixture
def limit_of_two(settings, monkeypatch):
    """Two requests a minute, counted in a cache of this test's own (a LocMemCache's store is
    shared by name: emptied first)."""
    cache = LocMemCache("throttle-address", {})
    cache.clear()
    monkeypatch.setattr(ApiKeyRateThrottle, "cache", cache)
    settings.API_THROTTLE_RATE = "2/min"


def behind_proxies(settings, count):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": count}


def ident(**meta) -> str:
    request = Request(APIRequestFactory().get("/api/v1/", **meta))
    return ApiKeyRateThrottle().get_ident(request)


def test_the_setting_reaches_drf(settings):
    from rest_framework.settings import api_settings

    assert settings.NUM_PROXIES == 0
    assert api_settings.NUM_PROXIES == 0


def test_without_proxies_the_ident_is_the_connections_address():
    assert ident(REMOTE_ADDR="198.51.100.4", HTTP_X_FORWARDED_FOR="203.0.113.9") == "198.51.100.4"


def test_behind_one_proxy_the_ident_is_the_last_hop(settings):
    behind_proxies(settings, 1)

    forged_then_real = ident(
        REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.4"
    )

    assert forged_then_real == "198.51.100.4"
    # a request that did not come through the proxy: its own address
    assert ident(REMOTE_ADDR="198.51.100.5") == "198.51.100.5"


def test_without_proxies_a_client_rotating_x_forwarded_for_is_throttled_as_one(limit_of_two):
    # when one client names a new address in each request
    statuses = [
        Client(REMOTE_ADDR="198.51.100.4", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
        .get(SERVICES)
        .status_code
        for n in range(1, 4)
    ]
    elsewhere = Client(REMOTE_ADDR="198.51.100.5").get(SERVICES)

    # then its third request is refused, and another client still answered
    assert statuses == [200, 200, 429]
    assert elsewhere.status_code == 200


def test_behind_one_proxy_clients_are_counted_by_the_last_hop(settings, limit_of_two):
    # given one proxy at 10.0.0.1 appending each client's address
    behind_proxies(settings, 1)

    # when one client forges a new first hop each time, and another comes through the same proxy
    statuses = [
        Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}, 198.51.100.4")
        .get(SERVICES)
        .status_code
        for n in range(1, 4)
    ]
    other = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.5").get(SERVICES)

    # then the first is throttled as one address, the other is not: the proxy is not the ident
    assert statuses == [200, 200, 429]
    assert other.status_code == 200
