"""The report in a real browser: headless Chromium loads every image, logs no errors, and the
page is screenshotted (saved to $CNNKIT_ARTIFACTS when set) for a person to look at."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from report_helpers import digits_case, single_thread

from cnnkit import report

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="needs Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver)",
)


@pytest.fixture
def browser(tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(flag)
    options.binary_location = str(CHROMIUM)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_report_opens_in_chromium_with_every_image_and_no_errors(tmp_path, browser):
    with single_thread():
        model, history, data = digits_case()
        path = report.build(
            tmp_path / "report",
            model,
            history,
            data,
            max_points=100,
            preprocess=lambda x: x / 255,
        )
    browser.set_window_size(1280, 900)
    browser.get(path.resolve().as_uri())
    assert browser.execute_script("return document.readyState") == "complete"
    assert browser.title == "CNN report"
    sections = browser.execute_script(
        "return [...document.querySelectorAll('section[id]')].map(s => s.id)"
    )
    assert sections == list(report.SECTION_IDS)
    images = browser.execute_script(
        "return [...document.images].map(i => [i.complete, i.naturalWidth, i.naturalHeight])"
    )
    assert len(images) == path.read_text(encoding="utf-8").count("<img ")
    assert images and all(done and width > 0 and height > 0 for done, width, height in images)
    # Readable at a laptop width: nothing wider than the window.
    assert browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth"
    )
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == []

    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1280, min(height + 120, 16000))
    screenshot = tmp_path / "report.png"
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.read_bytes().startswith(b"\x89PNG") and screenshot.stat().st_size > 50_000
    artifacts = os.environ.get("CNNKIT_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshot, Path(artifacts) / "report_screenshot.png")
        shutil.copy(path, Path(artifacts) / "report.html")
