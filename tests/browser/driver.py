"""Driving the real page: a Streamlit server subprocess and headless Chromium (Selenium).

Shared by the browser tests and ``benchmarks/bench_page.py``."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = ("chromium", "chromium-browser", "google-chrome")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, *, process: subprocess.Popen, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"streamlit did not become healthy at {url}")


def start_server(*, log_path: Path, extra_env: dict | None = None, script: str = "app.py",
                 cwd: Path = ROOT) -> tuple[subprocess.Popen, str]:
    """``streamlit run <script>`` (the page, ``app.py``, by default) on a free local port,
    from ``cwd``; returns the process and its URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.setdefault("GRIDCIRCLE_AUTOSAVE_DIR", str(log_path.parent / "autosave"))  # ui/restore.py
    env.update(extra_env or {})
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false"],
        cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process=process)
    except Exception:
        process.kill()
        raise
    return process, url


def start_test_page(script: Path, site: Path) -> tuple[subprocess.Popen, str]:
    """Serve a test page (``script``, e.g. ``edit_app.py``) from its own folder ``site``.

    Streamlit serves ./static and reads ./.streamlit beside the main script: the folder
    links the repository's static files (vendored Leaflet) and page settings."""
    (site / script.name).write_text(script.read_text("utf-8"), encoding="utf-8")
    (site / "static").symlink_to(ROOT / "static", target_is_directory=True)
    (site / ".streamlit").symlink_to(ROOT / ".streamlit", target_is_directory=True)
    return start_server(log_path=site / "server.log", extra_env={"PYTHONPATH": str(ROOT)},
                        script=script.name, cwd=site)


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def chromium_binary() -> str | None:
    for name in CHROMIUM:
        path = shutil.which(name)
        if path:
            return path
    return None


def new_browser(user_data_dir: Path, *, width: int = 1500, height: int = 1100):
    """Headless Chromium that cannot reach any host but this machine (as on an intranet)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary = chromium_binary()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                f"--user-data-dir={user_data_dir}", f"--window-size={width},{height}",
                "--lang=zh-CN",
                # no internet: every name but the local server fails to resolve
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver_path = shutil.which("chromedriver")
    service = Service(driver_path) if driver_path else Service()
    return webdriver.Chrome(service=service, options=options)


# ----------------------------------------------------------------------------- the page

MAP_FRAME = "iframe[src*='streamlit_folium']"
GRID_PATHS = "document.querySelectorAll('.leaflet-gc-grids-pane path').length"
AREA_PATHS = "document.querySelectorAll('.leaflet-gc-areas-pane path').length"


def area_paths_of(colour: str) -> str:
    """Script counting the service-area shapes drawn in ``colour`` (one service's)."""
    return ("document.querySelectorAll("
            f"'.leaflet-gc-areas-pane path[stroke=\"{colour}\"]').length")


def wait_for(driver, condition, *, timeout_s: float = 60, poll_s: float = 0.1, what: str = ""):
    """Poll ``condition(driver)`` until it is truthy; returns its value."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            value = condition(driver)
        except Exception:  # noqa: BLE001 - the DOM changes under us while Streamlit reruns
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what or condition}")
        time.sleep(poll_s)


def page_idle(driver) -> bool:
    """Streamlit has finished the current run (no running indicator, no stale elements)."""
    driver.switch_to.default_content()
    return driver.execute_script(
        "return document.querySelector('[data-testid=\"stStatusWidget\"]') === null"
        " && document.querySelectorAll('[data-stale=\"true\"]').length === 0"
        " && document.querySelector('[data-testid=\"stApp\"]') !== null")


def enter_map(driver, *, timeout_s: float = 60):
    """Switch into the map's iframe once Leaflet has drawn in it; returns the iframe."""
    from selenium.webdriver.common.by import By

    driver.switch_to.default_content()
    frame = wait_for(driver, lambda d: d.find_element(By.CSS_SELECTOR, MAP_FRAME),
                     timeout_s=timeout_s, what="the map iframe")
    driver.switch_to.frame(frame)
    wait_for(driver, lambda d: d.execute_script(
        "return !!document.querySelector('.leaflet-container .leaflet-map-pane')"),
        timeout_s=timeout_s, what="the Leaflet map")
    return frame


def count(driver, script: str) -> int:
    return int(driver.execute_script(f"return {script};"))


def overlay_labels(driver) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll("
        "'.leaflet-control-layers-overlays label')).map(l => l.textContent.trim());")


def toggle_overlay(driver, name: str) -> None:
    """Click the layer-control checkbox of the overlay called ``name``."""
    driver.execute_script(
        "const want = arguments[0];"
        "for (const l of document.querySelectorAll('.leaflet-control-layers-overlays label')) {"
        "  if (l.textContent.trim() === want) { l.querySelector('input').click(); return; } }"
        "throw new Error('no overlay ' + want);", name)


def add_shown_service(driver, name: str) -> None:
    """Add a service to the sidebar's "services shown" multiselect (typed, then Enter)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.switch_to.default_content()
    box = driver.find_element(
        By.CSS_SELECTOR, "section[data-testid='stSidebar'] [data-testid='stMultiSelect'] input")
    box.click()
    box.send_keys(name)
    box.send_keys(Keys.ENTER)


def severe_console_entries(driver) -> list[dict]:
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
