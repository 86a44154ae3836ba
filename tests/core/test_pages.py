"""The login page is Chinese by default, English on request; login and logout work."""

import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db


def test_root_sends_an_anonymous_visitor_to_the_chinese_login_page(client):
    response = client.get("/", follow=True)

    assert response.redirect_chain == [("/accounts/login/?next=/", 302)]
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "<title>登录 · 街道综合行政执法</title>" in html
    assert "哨响 · 街道综合行政执法" in html
    assert ">用户名</label>" in html and ">密码</label>" in html


def test_english_is_one_switch_away(client):
    response = client.post(
        "/i18n/setlang/", {"language": "en", "next": "/accounts/login/"}, follow=True
    )

    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Shaoxiang · Street comprehensive enforcement" in html
    assert ">Username</label>" in html


def test_browser_language_preference_is_honoured(client):
    html = client.get(
        "/accounts/login/", headers={"accept-language": "en-US,en;q=0.9"}
    ).content.decode()
    assert ">Password</label>" in html


def test_a_wrong_password_says_so_in_chinese(client, demo):
    response = client.post("/accounts/login/", {"username": "hh_officer", "password": "wrong"})

    assert response.status_code == 200
    assert "用户名或密码不正确，请重试。" in response.content.decode()


def test_login_shows_the_home_page_with_the_role_and_logout_returns_to_login(client, demo):
    response = client.post(
        "/accounts/login/", {"username": "hh_officer", "password": "shaoxiang-demo"}, follow=True
    )
    html = response.content.decode()
    # an officer starts at their tasks (core.navigation)
    assert response.redirect_chain == [("/", 302), ("/field/tasks/", 302)]
    assert "我的任务" in html and "王建军" in html

    response = client.post("/accounts/logout/", follow=True)
    assert response.redirect_chain == [("/accounts/login/", 302)]
    assert client.get("/").status_code == 302


def test_admin_is_reachable_for_the_district_admin(client, demo):
    client.force_login(get_user_model().objects.get(username="district_admin"))
    response = client.get("/admin/")
    assert response.status_code == 200
    assert "行政区划" in response.content.decode()


def test_several_roles_are_listed_in_role_order_with_the_language_separator(client):
    from tests.factories.users import UserFactory

    # roles without a start page of their own: the home card lists them
    user = UserFactory(
        username="both", first_name="孙丽", roles=["district_admin", "legal_reviewer"]
    )
    client.force_login(user)

    assert "您的角色： 法制审核、区级管理员" in client.get("/").content.decode()
    client.cookies["django_language"] = "en"
    assert "Your roles: Legal reviewer, District administrator" in client.get("/").content.decode()
