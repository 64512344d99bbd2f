"""Fixtures of the end-to-end tests: the running stack and one headless Chromium.

These tests never use pytest-django's test database (no ``db`` fixture): the application runs
in gunicorn against a database of its own, see tests/e2e/stack.py.
"""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e.browser import launch_chromium, new_context
from tests.e2e.stack import Stack, running_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Start the database, the OpenID provider and gunicorn once, and stop them at the end."""
    with running_stack(tmp_path_factory.mktemp("e2e-logs")) as running:
        yield running


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Launch one Chromium for all the end-to-end tests, and close it once they are done.

    Package scope rather than session scope: between calls, Playwright's sync API leaves its
    asyncio loop marked as running in the main thread. A later test in the same process would
    then find a running event loop, which Django's async-unsafe guards reject.
    """
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """Open a page in a fresh browser context, without any session, and close it afterwards."""
    context = new_context(browser)
    yield context.new_page()
    context.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # With pytest-xdist's "loadgroup" distribution, every browser test runs on the same worker,
    # so the suite starts one server stack, not one per worker.
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.xdist_group("browser"))
