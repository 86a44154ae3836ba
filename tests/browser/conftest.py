"""Playwright driving Debian's Chromium (never a downloaded browser; NOTES.md)."""

import pytest
from playwright.sync_api import sync_playwright

from tests.enforcement.api.conftest import world  # noqa: F401 -- the API tests' small world

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    yield page
    context.close()


# --- helpers of the pages' browser tests ---


def login(page, base_url: str, username: str, password: str = "shaoxiang-demo") -> None:  # noqa: S107 -- the demo password
    """Log in through the login form (language-neutral selectors) and wait for the start page."""
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("form button[type=submit]")
    page.wait_for_load_state("load")


class PageWatch:
    """What the browser reports of a page while a test drives it: Content-Security-Policy
    violations (Chromium logs each one) and console errors."""

    def __init__(self, page):
        self.csp: list[str] = []
        self.errors: list[str] = []
        page.on("console", self._console)

    def _console(self, message) -> None:
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.csp.append(text)
        elif message.type == "error" and "favicon" not in text:
            self.errors.append(text)


def axe_serious(page) -> list[str]:
    """The serious and critical accessibility violations axe-core finds on the page as it is
    drawn now: each as "rule: the first offending element"."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']}: {v['nodes'][0]['target'] if v['nodes'] else ''} ({v['help']})"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


@pytest.fixture
def new_page(browser):
    """Pages in contexts of their own (two people in two browsers), closed after the test."""
    contexts = []

    def make(*, locale="zh-CN", width=1920, height=1080):
        context = browser.new_context(locale=locale, viewport={"width": width, "height": height})
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def sla_defaults(db):
    """The default SLA policies of migration enforcement.0008: a transactional test's flush
    empties every table, the rows data migrations wrote included, and the demo seed does not
    write them (a real database keeps them from its migration)."""
    from importlib import import_module

    from django.apps import apps

    import_module("enforcement.migrations.0008_sla_defaults").load(apps, None)
