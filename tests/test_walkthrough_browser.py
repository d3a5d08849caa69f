"""The walkthrough page in headless Chromium: a click on a convolution neuron shows the sum plus
bias and the activation the model computed; pooling and softmax panels too; no console errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from cnnkit import report, zoo
from cnnkit.inspect import activations

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


def shown(browser, element_id: str) -> float:
    """The full-precision value the panel shows in element ``element_id``."""
    return float(
        browser.execute_script(f"return document.getElementById('{element_id}').dataset.value")
    )


def test_clicking_neurons_shows_the_models_computation(tmp_path, browser):
    torch.manual_seed(0)
    model = zoo.get("lenet5")
    image = np.random.default_rng(0).random((32, 32, 1), dtype=np.float32)
    path = report.walkthrough(model, image, tmp_path / "page.html", batch_size=8)
    forward = activations(model, image)
    browser.set_window_size(1400, 1000)
    browser.get(path.resolve().as_uri())
    assert browser.execute_script("return document.readyState") == "complete"

    maps = browser.find_elements("css selector", "#layer-0 canvas")
    assert len(maps) == 6
    maps[2].click()  # the middle of map 2 of the first convolution
    layer, position = browser.execute_script(
        "const d = document.getElementById('wt-detail'); return [d.dataset.layer, d.dataset.position]"
    )
    r, c, f = (int(v) for v in position.split(","))
    assert layer == "0" and f == 2 and 10 <= r <= 18 and 10 <= c <= 18
    conv = model.layers[0]
    kernel, bias = (w.detach().numpy() for w in conv.keras_weights())
    z = float(np.sum(image[r : r + 5, c : c + 5, :] * kernel[:, :, :, f]) + bias[f])
    expected = forward[conv.name][0, r, c, f]
    assert shown(browser, "wt-sum") == pytest.approx(z, rel=1e-5, abs=1e-6)
    assert shown(browser, "wt-activation") == pytest.approx(expected, rel=1e-5, abs=1e-6)
    assert shown(browser, "wt-model") == pytest.approx(expected, rel=1e-6, abs=1e-7)
    cells = browser.execute_script(
        "return document.querySelectorAll('#wt-detail table.grid').length"
    )
    assert cells == 3  # window, kernel, products

    browser.execute_script("walkthrough.select(1, [3, 4, 5])")  # average pooling
    assert shown(browser, "wt-pool") == pytest.approx(
        forward[model.layers[1].name][0, 3, 4, 5], rel=1e-5, abs=1e-6
    )
    browser.execute_script("walkthrough.select(7, [3])")  # the softmax output
    probabilities = forward[model.layers[7].name][0]
    assert shown(browser, "wt-activation") == pytest.approx(probabilities[3], rel=1e-5, abs=1e-6)
    rows = browser.execute_script(
        "return document.querySelectorAll('#wt-probabilities tbody tr').length"
    )
    assert rows == 10

    total = browser.execute_script("return document.getElementById('wt-total').textContent")
    per_image = 4 * sum(int(np.prod(layer.output_shape[1:])) for layer in model.layers)
    assert total.startswith(f"{8 * per_image:,} B")
    browser.execute_script(
        "const b = document.getElementById('wt-batch'); b.value = '64';"
        "b.dispatchEvent(new Event('input'))"
    )
    total = browser.execute_script("return document.getElementById('wt-total').textContent")
    assert total.startswith(f"{64 * per_image:,} B")
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == []
