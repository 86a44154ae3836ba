"""Login brute force (django-axes, core.lockout): five wrong passwords lock that username from
that address out for 15 minutes, with a Chinese lockout page; twenty from any addresses lock the
username everywhere; nobody else is locked. The address is NUM_PROXIES' (the API's throttle's)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from core.lockout import login_client_address
from tests.factories.users import UserFactory

PASSWORD = "correct-horse-battery"
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


def log_in(client, username, password, address="10.0.0.1", **extra):
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        **extra,
    )


def fail_five_times(client, username, address="10.0.0.1"):
    return [log_in(client, username, "wrong", address).status_code for _ in range(5)]


def test_five_wrong_passwords_lock_the_user_out_even_with_the_right_one(client):
    UserFactory(username="hh_officer")

    with time_machine.travel(NOW, tick=False):
        statuses = fail_five_times(client, "hh_officer")
        response = log_in(client, "hh_officer", PASSWORD)

    assert statuses == [200, 200, 200, 200, 429]
    assert response.status_code == 429
    html = response.content.decode()
    assert "<title>登录已锁定 · 街道综合行政执法</title>" in html
    assert "由于密码错误 5 次，从此地址以 hh_officer 登录已被禁止 15 分钟。" in html
    assert "请稍后再试，或请区级管理员解锁该账号。" in html
    assert "_auth_user_id" not in client.session


def test_four_wrong_passwords_do_not_lock(client):
    UserFactory(username="hh_officer")

    for _ in range(4):
        log_in(client, "hh_officer", "wrong")
    response = log_in(client, "hh_officer", PASSWORD)

    assert response.status_code == 302
    assert "_auth_user_id" in client.session


def test_another_user_at_the_same_address_is_not_locked(client):
    UserFactory(username="hh_officer")
    UserFactory(username="hh_grid")
    fail_five_times(client, "hh_officer")

    response = log_in(Client(), "hh_grid", PASSWORD)

    assert response.status_code == 302


def test_the_same_user_from_another_address_is_not_locked(client):
    UserFactory(username="hh_officer")
    fail_five_times(client, "hh_officer", address="10.0.0.1")

    response = log_in(Client(), "hh_officer", PASSWORD, address="10.0.0.2")

    assert response.status_code == 302


def test_the_lockout_ends_15_minutes_after_the_last_try(client):
    UserFactory(username="hh_officer")
    with time_machine.travel(NOW, tick=False):
        fail_five_times(client, "hh_officer")
    last_try = NOW + timedelta(minutes=14, seconds=59)
    with time_machine.travel(last_try, tick=False):
        still_locked = log_in(client, "hh_officer", PASSWORD).status_code
    with time_machine.travel(last_try + timedelta(minutes=14, seconds=59), tick=False):
        locked_again = log_in(client, "hh_officer", PASSWORD).status_code
    last_try += timedelta(minutes=14, seconds=59)

    with time_machine.travel(last_try + timedelta(minutes=15, seconds=1), tick=False):
        response = log_in(client, "hh_officer", PASSWORD)

    assert (still_locked, locked_again) == (429, 429)
    assert response.status_code == 302


def test_the_lockout_page_is_english_on_request(client):
    UserFactory(username="hh_officer")
    fail_five_times(client, "hh_officer")

    response = client.post(
        "/accounts/login/",
        {"username": "hh_officer", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.1",
        headers={"accept-language": "en"},
    )

    assert response.status_code == 429
    assert (
        "After 5 wrong passwords, logging in as hh_officer from this address is blocked for "
        "15 minutes." in " ".join(response.content.decode().split())
    )


# --- per username, from any addresses ---


def test_twenty_wrong_passwords_from_twenty_addresses_lock_the_username_everywhere(client):
    # given one account guessed at once from twenty addresses, one try each
    UserFactory(username="hh_officer")
    with time_machine.travel(NOW, tick=False):
        statuses = [
            log_in(Client(), "hh_officer", "wrong", f"10.0.1.{n}").status_code for n in range(1, 21)
        ]

        # when its owner logs in with the right password from yet another address
        response = log_in(client, "hh_officer", PASSWORD, "10.0.2.1")

    # then the twentieth try locked the username, and the owner gets the lockout page
    assert statuses == [200] * 19 + [429]
    assert response.status_code == 429
    html = response.content.decode()
    assert "<title>登录已锁定 · 街道综合行政执法</title>" in html
    assert "_auth_user_id" not in client.session


def test_the_lockout_page_says_the_username_is_locked_from_every_address(client):
    UserFactory(username="hh_officer")
    for n in range(1, 21):
        log_in(Client(), "hh_officer", "wrong", f"10.0.1.{n}")

    response = log_in(client, "hh_officer", PASSWORD, "10.0.2.1", headers={"accept-language": "en"})

    assert response.status_code == 429
    assert (
        "After 20 wrong passwords from several addresses, logging in as hh_officer is blocked "
        "from every address for 15 minutes." in " ".join(response.content.decode().split())
    )


def test_nineteen_wrong_passwords_from_nineteen_addresses_do_not_lock(client):
    UserFactory(username="hh_officer")
    for n in range(1, 20):
        log_in(Client(), "hh_officer", "wrong", f"10.0.1.{n}")

    response = log_in(client, "hh_officer", PASSWORD, "10.0.2.1")

    assert response.status_code == 302
    assert "_auth_user_id" in client.session


def test_a_username_locked_everywhere_leaves_other_usernames_alone(client):
    UserFactory(username="hh_officer")
    UserFactory(username="hh_grid")
    for n in range(1, 21):
        log_in(Client(), "hh_officer", "wrong", f"10.0.1.{n}")

    # the other user, even from one of the guessing addresses
    response = log_in(client, "hh_grid", PASSWORD, "10.0.1.20")

    assert response.status_code == 302


def test_the_username_lockout_ends_15_minutes_after_the_tries(client):
    UserFactory(username="hh_officer")
    with time_machine.travel(NOW, tick=False):
        for n in range(1, 21):
            log_in(Client(), "hh_officer", "wrong", f"10.0.1.{n}")

    with time_machine.travel(NOW + timedelta(minutes=15, seconds=1), tick=False):
        response = log_in(client, "hh_officer", PASSWORD, "10.0.2.1")

    assert response.status_code == 302


# --- the address counted: NUM_PROXIES ---


def behind_proxies(settings, count):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": count}


def test_without_proxies_a_rotated_x_forwarded_for_is_the_same_address(client):
    UserFactory(username="hh_officer")
    statuses = [
        log_in(
            Client(), "hh_officer", "wrong", "10.0.0.1", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}"
        ).status_code
        for n in range(1, 6)
    ]

    response = log_in(client, "hh_officer", PASSWORD, "10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4")

    assert statuses == [200, 200, 200, 200, 429]
    assert response.status_code == 429


def test_behind_one_proxy_the_last_x_forwarded_for_hop_is_the_address(client, settings):
    # given one proxy (10.0.0.1) in front: each client's address is the last hop it appends
    behind_proxies(settings, 1)
    UserFactory(username="hh_officer")
    for forged in range(1, 6):
        log_in(
            Client(),
            "hh_officer",
            "wrong",
            "10.0.0.1",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{forged}, 203.0.113.7",
        )

    # when the user logs in through the same proxy from the locked address, then from another
    locked = log_in(
        Client(), "hh_officer", PASSWORD, "10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7"
    )
    elsewhere = log_in(
        client, "hh_officer", PASSWORD, "10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.8"
    )

    # then only the client at 203.0.113.7 is locked out, though all came from the proxy
    assert locked.status_code == 429
    assert elsewhere.status_code == 302


def test_the_address_falls_back_to_the_connection_when_the_header_is_no_address(settings):
    from django.test import RequestFactory

    behind_proxies(settings, 1)
    factory = RequestFactory()

    forwarded = factory.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="x, 203.0.113.7")
    garbage = factory.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="not-an-address")

    assert login_client_address(forwarded) == "203.0.113.7"
    assert login_client_address(garbage) == "10.0.0.1"
