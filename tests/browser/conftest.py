"""Browser fixtures: Debian's chromium driven by Playwright against pytest-django's live server.

The browser is launched once per session; each test gets fresh browser contexts (cookies,
storage) pointed at `live_server.url`. `live_server` implies `transactional_db`, so the data a
test creates is committed and visible to the server thread and to the Celery worker process.
"""

import os

# Playwright's sync API runs an asyncio loop in this thread; Django's ORM refuses to run
# while a loop is running unless told it is safe (it is: the test itself is synchronous).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest  # noqa: E402
from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Explicit, short timeouts (milliseconds): a local server answers in far less.
TIMEOUT = 5_000
NAVIGATION_TIMEOUT = 10_000


@pytest.fixture(scope="session")
def browser():
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@pytest.fixture
def new_context(browser, live_server):
    """new_context(**options) -> a fresh browser context on the live server (closed at teardown)."""
    contexts = []

    def make(**options):
        context = browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(TIMEOUT)
        context.set_default_navigation_timeout(NAVIGATION_TIMEOUT)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context) -> Page:
    return new_context().new_page()


def sign_in(page: Page, username: str, password: str = "password") -> None:
    """Sign in through the real login form (leaves the page where the login redirects to)."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def wait_for_htmx(page: Page, timeout: float = TIMEOUT) -> None:
    """Wait until htmx has no request in flight (it puts `htmx-request` on the element)."""
    expect(page.locator(".htmx-request")).to_have_count(0, timeout=timeout)
