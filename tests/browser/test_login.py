"""In Chromium on a phone-sized screen: the Chinese login page, a login (the officer lands on
their tasks), the language switch, the logout."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_officer_logs_in_switches_to_english_and_logs_out(live_server, page, demo, tmp_path):
    # given the Chinese login page
    page.goto(f"{live_server.url}/")
    assert page.title() == "登录 · 街道综合行政执法"
    assert page.locator("h1").inner_text() == "哨响 · 街道综合行政执法"
    # the stylesheet is served and applied (the submit button takes the accent colour)
    colour = page.locator("button.primary").evaluate("b => getComputedStyle(b).backgroundColor")
    assert colour == "rgb(192, 57, 43)"

    # when the officer logs in
    page.get_by_label("用户名").fill("hh_officer")
    page.get_by_label("密码").fill("shaoxiang-demo")
    page.get_by_role("button", name="登录").click()

    # then they land on their tasks (the officer's start page)
    page.wait_for_url(f"{live_server.url}/field/tasks/")
    assert page.locator("h1").inner_text().startswith("我的任务")
    page.screenshot(path=str(tmp_path / "tasks-zh.png"))

    # when they switch to English, the same page speaks English
    page.select_option("#language-select", "en")
    page.wait_for_selector("h1:has-text('My tasks')")
    assert page.get_by_role("button", name="Log out").is_visible()

    # and logging out returns to the (now English) login page
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{live_server.url}/accounts/login/")
    assert page.title() == "Log in · Street comprehensive enforcement"


def test_a_wrong_password_is_refused_in_chinese(live_server, page, demo):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill("hh_officer")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()

    assert page.get_by_role("alert").inner_text() == "用户名或密码不正确，请重试。"
    assert page.url == f"{live_server.url}/accounts/login/"
