"""Fixtures: a real Streamlit server and a real headless Chromium (see ``driver.py``)."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.browser.driver import chromium_binary, new_browser, start_server, stop_server


@pytest.fixture(scope="session")
def chromium_available():
    if chromium_binary() is None or shutil.which("chromedriver") is None:
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail("headless Chromium and chromedriver are required in CI "
                        "(apt-get install chromium chromium-driver)")
        pytest.skip("chromium / chromedriver not installed")


@pytest.fixture(scope="module")
def server(chromium_available, tmp_path_factory):
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    process, url = start_server(log_path=log)
    yield url
    stop_server(process)


@pytest.fixture(scope="module")
def browser(chromium_available, tmp_path_factory):
    driver = new_browser(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """The page server's HOME (its default project folder is ``HOME/gridcircle``)."""
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def project_server(chromium_available, tmp_path_factory, home):
    """The page with HOME set to :func:`home`, so that saving never touches the real one."""
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    process, url = start_server(log_path=log, extra_env={"HOME": str(home)})
    yield url
    stop_server(process)
