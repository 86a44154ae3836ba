"""Login brute force (django-axes): five wrong passwords lock that username from that address
out for 15 minutes, with a Chinese lockout page; nobody else is locked."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from tests.factories.users import UserFactory

PASSWORD = "correct-horse-battery"
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


def log_in(client, username, password, address="10.0.0.1"):
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
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
