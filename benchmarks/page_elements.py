"""What the page sends the browser per rerun: the elements (Streamlit deltas) by kind and
the bytes, with the browser's busy time (Chrome's own task counters), for the first page,
a walking-speed change and a choice inside the edit panel (a fragment: only the panel).

Counted from the websocket frames the browser receives (Chrome's performance log, each a
Streamlit ``ForwardMsg``), so it sees what any version of the page sends. Run from the
repository root: ``python benchmarks/page_elements.py`` (about a minute; needs chromium).
"""

from __future__ import annotations

import base64
import collections
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402

from benchmarks.bench_page import map_ready, mark_map, new_areas_ready, type_number  # noqa: E402
from geo.i18n import t  # noqa: E402
from tests.browser import driver as drive  # noqa: E402


def browser(user_data_dir: Path):
    """Headless Chromium (as the browser tests') that logs the websocket frames."""
    options = webdriver.ChromeOptions()
    options.binary_location = drive.chromium_binary()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--user-data-dir={user_data_dir}", "--window-size=1500,1100", "--lang=zh-CN",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    found = shutil.which("chromedriver")
    driver = webdriver.Chrome(service=Service(found) if found else Service(), options=options)
    driver.execute_cdp_cmd("Performance.enable", {})
    return driver


def busy_s(driver) -> float:
    driver.switch_to.default_content()
    metrics = driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]
    return next(m["value"] for m in metrics if m["name"] == "TaskDuration")


def received(driver) -> list[tuple[ForwardMsg, int]]:
    """The Streamlit messages received since the last call, with their sizes."""
    out = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] != "Network.webSocketFrameReceived":
            continue
        frame = message["params"]["response"]
        if frame.get("opcode") == 2:  # binary: a ForwardMsg
            data = base64.b64decode(frame["payloadData"])
            msg = ForwardMsg()
            msg.ParseFromString(data)
            out.append((msg, len(data)))
    return out


def step(driver, name: str, action, done) -> None:
    received(driver)
    busy = busy_s(driver)
    start = time.perf_counter()
    action()
    drive.wait_for(driver, done, timeout_s=180, poll_s=0.02)
    took = time.perf_counter() - start
    drive.wait_for(driver, drive.page_idle)
    time.sleep(0.5)
    busy = busy_s(driver) - busy
    kinds: collections.Counter = collections.Counter()
    size = 0
    for msg, n in received(driver):
        size += n
        if msg.WhichOneof("type") == "delta":
            kind = msg.delta.WhichOneof("type")
            kinds[msg.delta.new_element.WhichOneof("type") if kind == "new_element" else kind] += 1
    print(f"{name:24s} {took:5.2f} s, browser busy {busy:5.2f} s, "
          f"{sum(kinds.values()):4d} elements, {size / 1e3:7.0f} kB")
    print("    " + ", ".join(f"{k} {n}" for k, n in kinds.most_common()))


def main() -> None:
    log = Path(tempfile.mkdtemp()) / "server.log"
    process, url = drive.start_server(log_path=log)
    driver = browser(Path(tempfile.mkdtemp()))
    try:
        step(driver, "first page (helsinki)", lambda: driver.get(url), map_ready)
        label = next(e.text.strip() for e in driver.find_elements(
            By.CSS_SELECTOR, "[data-testid='stNumberInput'] label") if "米/秒" in e.text)
        mark_map(driver)
        step(driver, "walking speed changed", type_number(driver, label, 1.0), new_areas_ready)
        split = t("edit.op.split", "zh")
        apply = t("edit.apply_split", "zh")

        def choose_split():
            driver.switch_to.default_content()
            option = next(o for o in driver.find_elements(
                By.CSS_SELECTOR, "[data-testid='stRadio'] label") if o.text.strip() == split)
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", option)
            option.click()

        step(driver, "edit operation chosen", choose_split, lambda d: drive.page_idle(d) and any(
            b.text.strip() == apply for b in d.find_elements(By.CSS_SELECTOR, "button")))
    finally:
        driver.quit()
        drive.stop_server(process)


if __name__ == "__main__":
    main()
