"""Who may read /metrics (core.middleware.MetricsGuarded, settings.METRICS_TOKEN): without a
token a scrape made on this host straight to the web process, with one the bearer of it from
anywhere; everything else is a 403 before the view counts anything."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def scrape(address, **headers):
    return Client(REMOTE_ADDR=address).get("/metrics", headers=headers)


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.53", "::1", "::ffff:127.0.0.1"])
def test_without_a_token_a_scrape_from_loopback_is_answered(settings, address):
    settings.METRICS_TOKEN = ""

    response = scrape(address)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")


@pytest.mark.parametrize(
    ("address", "headers"),
    [
        ("10.0.0.5", {}),
        ("203.0.113.7", {}),
        ("fe80::1", {}),
        # the connection's address counts, never what a header claims
        ("203.0.113.7", {"X-Forwarded-For": "127.0.0.1"}),
        # relayed by a proxy on this host: from loopback, but for somebody else
        ("127.0.0.1", {"X-Forwarded-For": "203.0.113.7"}),
        ("127.0.0.1", {"Forwarded": "for=203.0.113.7"}),
    ],
    ids=["private", "public", "link-local", "forged-header", "local-proxy", "local-proxy-rfc7239"],
)
def test_without_a_token_any_other_scrape_is_refused(settings, address, headers):
    settings.METRICS_TOKEN = ""

    response = scrape(address, **headers)

    assert response.status_code == 403
    assert response.content == b"metrics: loopback only, or set METRICS_TOKEN\n"


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.5"])
def test_with_a_token_the_bearer_is_answered_from_anywhere(settings, address):
    settings.METRICS_TOKEN = "s3cret-token"

    response = scrape(address, Authorization="Bearer s3cret-token")

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("address", "authorization"),
    [
        ("127.0.0.1", None),
        ("10.0.0.5", None),
        ("10.0.0.5", "Bearer wrong"),
        ("10.0.0.5", "Bearer s3cret-token-and-more"),
        ("10.0.0.5", "s3cret-token"),
    ],
    ids=["loopback-without", "remote-without", "wrong", "longer", "no-scheme"],
)
def test_with_a_token_a_scrape_without_it_is_refused_even_from_loopback(
    settings, address, authorization
):
    settings.METRICS_TOKEN = "s3cret-token"
    headers = {"Authorization": authorization} if authorization else {}

    response = scrape(address, **headers)

    assert response.status_code == 403
    assert response.content == b"metrics token required\n"


def test_other_pages_are_not_guarded(settings):
    settings.METRICS_TOKEN = ""

    response = Client(REMOTE_ADDR="203.0.113.7").get("/accounts/login/")

    assert response.status_code == 200
