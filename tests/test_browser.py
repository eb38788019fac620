"""The step-through page and the playground, driven end to end in headless Chromium.

Debian's ``chromium`` and ``chromium-driver`` (``apt-get install chromium chromium-driver``) with
selenium: the tests open the pages as a learner would, click and type, and read the numbers back
from the page. Every test keeps a screenshot under its ``tmp_path``. Without a browser, a driver or
selenium the module skips and says which is missing. ``CHROMIUM``/``CHROMEDRIVER`` point at
other binaries.

``ENGINE_DOCS_SCREENSHOTS=1 pytest tests/test_browser.py`` also copies the two final screenshots to
``docs/images/step_through.png`` and ``docs/images/playground.png`` (how the README's are made).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WAIT_S = 10  # the longest any page may take to show what a test waits for


def _find(env: str, names: tuple[str, ...]) -> str | None:
    """``$env`` when set (None unless it is an executable), else the first of ``names`` on PATH."""
    if os.environ.get(env):
        return shutil.which(os.environ[env])
    return next(filter(None, map(shutil.which, names)), None)


@pytest.fixture(scope="module")
def browser_paths() -> tuple[str, str]:
    pytest.importorskip("selenium", reason="selenium is not installed: pip install -e '.[test]'")
    chromium = _find("CHROMIUM", ("chromium", "chromium-browser", "google-chrome"))
    chromedriver = _find("CHROMEDRIVER", ("chromedriver",))
    if chromium is None or chromedriver is None:
        missing = " and ".join(n for n, p in (("chromium", chromium), ("chromedriver", chromedriver)) if p is None)
        pytest.skip(f"no {missing} (on PATH, or $CHROMIUM / $CHROMEDRIVER): apt-get install chromium chromium-driver")
    return chromium, chromedriver


@pytest.fixture(scope="module")
def driver(browser_paths, tmp_path_factory):
    """One headless Chromium for the module (starting one costs about a second); each test
    navigates it afresh."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, chromedriver = browser_paths
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,900", "--no-first-run", "--disable-extensions",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    log = tmp_path_factory.mktemp("chromedriver") / "chromedriver.log"
    # An explicit driver path: selenium never runs its manager (which would try the network).
    browser = webdriver.Chrome(service=Service(executable_path=chromedriver, log_output=str(log)), options=options)
    browser.set_page_load_timeout(WAIT_S * 2)
    yield browser
    browser.quit()


def screenshot(driver, tmp_path: Path, name: str) -> Path:
    """Save the window as ``tmp_path/name.png`` (kept by pytest's tmp dirs) and check it is a PNG."""
    path = tmp_path / f"{name}.png"
    assert driver.save_screenshot(str(path)), f"chromium could not take the screenshot {name}"
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    return path


def keep_for_docs(path: Path, name: str) -> None:
    """With ENGINE_DOCS_SCREENSHOTS=1, copy a final screenshot to docs/images/ for the README."""
    if os.environ.get("ENGINE_DOCS_SCREENSHOTS") == "1":
        shutil.copyfile(path, ROOT / "docs" / "images" / name)


def js_errors(driver, network: bool = True) -> list[str]:
    """The page's console errors since the last call: uncaught exceptions and, with ``network``,
    failed loads (a test that provokes a 400 on purpose passes ``network=False``)."""
    return [entry["message"] for entry in driver.get_log("browser")
            if entry["level"] == "SEVERE" and (network or entry.get("source") != "network")]


def wait_for(driver, condition, what: str):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT_S).until(condition, message=f"waited {WAIT_S} s for {what}")


# --- the harness itself, on a page of our own -------------------------------------------------------------

SMOKE_PAGE = """<!doctype html><meta charset="utf-8"><title>smoke</title>
<button id="inc">next</button> <span id="count">0</span>
<script>
  let n = 0;
  const show = () => { document.getElementById("count").textContent = String(n); };
  document.getElementById("inc").addEventListener("click", () => { n += 1; show(); });
  document.addEventListener("keydown", (e) => { if (e.key === "ArrowLeft") { n -= 1; show(); } });
</script>"""


def test_harness_drives_a_file_page(driver, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    page = tmp_path / "smoke.html"
    page.write_text(SMOKE_PAGE, encoding="utf-8")
    driver.get(page.as_uri())
    assert driver.title == "smoke"
    for _ in range(3):
        driver.find_element(By.ID, "inc").click()
    assert driver.find_element(By.ID, "count").text == "3"
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_LEFT)
    assert driver.find_element(By.ID, "count").text == "2"
    assert js_errors(driver) == []
    screenshot(driver, tmp_path, "smoke")


# --- the step-through page: engine.viz.backprop_html -------------------------------------------------------


def lecture_graph():
    """f = (x + y) z at x = -2, y = 5, z = -4 (lectures 000 and 001), labelled as the lecture draws it."""
    from engine.apps.demo import chain_rule_example

    return chain_rule_example()


def grads_table(driver) -> dict[str, str]:
    """The page's gradient table, value name -> the gradient shown so far ("?" until reached)."""
    # One round trip (innerText is what the learner sees, as .text is).
    rows = driver.execute_script(
        "return Array.from(document.querySelectorAll('#grads tbody tr'),"
        " row => Array.from(row.querySelectorAll('td'), td => td.innerText.trim()));")
    return {name: grad for name, _data, grad in rows}


def picture_grads(driver) -> list[str]:
    """The gradient fields drawn in the SVG, in document order ("grad ?" until reached)."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#graph text.grad'), t => t.textContent.trim());")


def shown_step(driver) -> int:
    from selenium.webdriver.common.by import By

    return int(driver.find_element(By.TAG_NAME, "body").get_attribute("data-step"))


@pytest.fixture
def step_page(driver, tmp_path):
    """The step-through page of the lecture's f, written by backprop_html and opened from file://."""
    from engine import viz

    f = lecture_graph()
    path = tmp_path / "f.html"
    assert Path(viz.backprop_html(f, path)) == path
    driver.get(path.as_uri())
    return f


def test_step_through_clicks_every_step(driver, step_page, tmp_path):
    from selenium.webdriver.common.by import By

    from engine import viz

    f = step_page
    text = lambda element_id: driver.find_element(By.ID, element_id).text  # noqa: E731
    lines = viz.format_steps(f).splitlines()  # the text step-through: the page must say the same
    expected = list(viz.steps(f))
    n = len(expected)
    assert driver.find_element(By.TAG_NAME, "body").get_attribute("data-steps") == str(n) == "4"
    # Self-contained: nothing was fetched (no scripts, styles, fonts or images from anywhere).
    assert driver.execute_script("return performance.getEntriesByType('resource').length") == 0

    assert (shown_step(driver), text("step-index"), text("step-text")) == (0, f"step 0 of {n}", lines[0])
    assert grads_table(driver) == {"x": "?", "y": "?", "q": "?", "z": "?", "f": "1"}
    assert not driver.find_element(By.ID, "prev").is_enabled()

    for k in range(1, n + 1):
        driver.find_element(By.ID, "next").click()
        step = expected[k - 1]
        assert shown_step(driver) == k
        assert text("step-index") == f"step {k} of {n}"
        assert text("step-text") == lines[k]
        assert text("contribution") == viz.graph.fmt(step.contribution)
        assert text("upstream").endswith(f"= {viz.graph.fmt(step.upstream)}")
        assert text("local").endswith(f"= {viz.graph.fmt(step.local)}")
        assert grads_table(driver)[step.parent] == viz.graph.fmt(step.parent_grad)
        assert driver.find_element(By.ID, "slider").get_attribute("value") == str(k)
        assert len(driver.find_elements(By.CSS_SELECTOR, "#graph .edge.active")) == 1

    # The end: every gradient filled in, the lecture's numbers, in the table and in the picture.
    assert grads_table(driver) == {"x": "-4", "y": "-4", "q": "-4", "z": "3", "f": "1"}
    assert sorted(picture_grads(driver)) == sorted(["grad -4", "grad -4", "grad -4", "grad 3", "grad 1"])
    assert not driver.find_element(By.ID, "next").is_enabled()
    assert js_errors(driver) == []
    keep_for_docs(screenshot(driver, tmp_path, "step_through"), "step_through.png")


def test_step_through_previous_slider_and_arrow_keys(driver, step_page, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    body = driver.find_element(By.TAG_NAME, "body")
    for _ in range(3):
        body.send_keys(Keys.ARROW_RIGHT)
    assert shown_step(driver) == 3
    assert grads_table(driver) == {"x": "-4", "y": "?", "q": "-4", "z": "3", "f": "1"}
    body.send_keys(Keys.ARROW_RIGHT)
    body.send_keys(Keys.ARROW_RIGHT)  # past the end: stays at the last step
    assert shown_step(driver) == 4
    assert grads_table(driver)["y"] == "-4"

    # Going back un-fills what the later steps filled in.
    driver.find_element(By.ID, "prev").click()
    assert shown_step(driver) == 3
    assert grads_table(driver)["y"] == "?"
    body.send_keys(Keys.ARROW_LEFT)
    body.send_keys(Keys.ARROW_LEFT)
    assert shown_step(driver) == 1
    assert grads_table(driver) == {"x": "?", "y": "?", "q": "-4", "z": "?", "f": "1"}
    assert sorted(picture_grads(driver)) == sorted(["grad ?", "grad ?", "grad -4", "grad ?", "grad 1"])

    # The slider: a click at its right end jumps to the last step, at its left end back to step 0.
    slider = driver.find_element(By.ID, "slider")
    half = slider.size["width"] // 2
    ActionChains(driver).move_to_element_with_offset(slider, half - 2, 0).click().perform()
    assert shown_step(driver) == 4
    assert grads_table(driver)["x"] == "-4"
    ActionChains(driver).move_to_element_with_offset(slider, -half + 2, 0).click().perform()
    assert shown_step(driver) == 0
    assert driver.find_element(By.ID, "step-text").text == "∂f/∂f = 1"
    assert js_errors(driver) == []
    screenshot(driver, tmp_path, "step_through_back")


def test_step_through_small_tensor_graph(driver, tmp_path):
    """A tensor graph steps the same way; a gradient of up to 16 elements is shown whole."""
    from selenium.webdriver.common.by import By

    import engine as torch
    from engine import viz

    torch.manual_seed(0)
    x = torch.tensor([[1.0, 2.0]])
    w = torch.tensor([[3.0], [4.0]], requires_grad=True)
    loss = (x @ w).sum()
    loss.backward()
    path = viz.backprop_html(loss, tmp_path / "tensor.html", params={"w": w})
    driver.get(Path(path).as_uri())
    n = int(driver.find_element(By.TAG_NAME, "body").get_attribute("data-steps"))
    assert n >= 2
    for _ in range(n):
        driver.find_element(By.ID, "next").click()
    assert shown_step(driver) == n
    table = grads_table(driver)
    assert table["w"] == "[[1], [2]]", table  # ∂loss/∂w = xᵀ
    assert js_errors(driver) == []
    screenshot(driver, tmp_path, "tensor_step_through")


# --- the playground: python -m engine serve ----------------------------------------------------------------


@pytest.fixture(scope="module")
def playground():
    """The playground served from a daemon thread on a free port; its base URL."""
    from engine.apps import playground as app

    server, port = app.start(0)
    yield f"http://127.0.0.1:{port}"
    app.stop(server)


def graph_state(driver, state: str = "ready") -> None:
    """Wait until the graph tab has finished a request ("loading" -> "ready" or "error")."""
    from selenium.webdriver.common.by import By

    wait_for(driver, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-state") == state,
             f"the playground's graph to be {state!r}")


def draw(driver, expr: str, values: str) -> None:
    """Type an expression and its values as a learner does, and press the draw button."""
    from selenium.webdriver.common.by import By

    for element_id, text in (("expr", expr), ("values", values)):
        field = driver.find_element(By.ID, element_id)
        field.clear()
        field.send_keys(text)
    driver.find_element(By.ID, "render").click()


def get_status(url: str) -> int:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=WAIT_S) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_playground_renders_the_link_and_a_typed_expression(driver, playground, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    text = lambda element_id: driver.find_element(By.ID, element_id).text  # noqa: E731
    # The link holds the expression and the values; the page draws them on load.
    driver.get(playground + "/?expr=(x%2By)*z&x=-2&y=5&z=-4")
    graph_state(driver)
    assert driver.find_element(By.ID, "expr").get_attribute("value") == "(x+y)*z"
    assert driver.find_element(By.ID, "values").get_attribute("value") == "x=-2, y=5, z=-4"
    assert text("result").split() == "f = (x+y)*z = -12 ∂f/∂x = -4 ∂f/∂y = -4 ∂f/∂z = 3".split()
    assert text("error") == ""
    n = int(driver.find_element(By.TAG_NAME, "body").get_attribute("data-steps"))
    assert n == 4
    for _ in range(n):
        driver.find_element(By.ID, "next").click()
    assert text("step-text") == "∂f/∂y = ∂f/∂(x + y) · ∂(x + y)/∂y = -4 · 1 = -4"
    assert grads_table(driver) == {"x": "-4", "y": "-4", "(x + y)": "-4", "z": "3", "f": "1"}
    assert sorted(picture_grads(driver)) == sorted(["grad -4", "grad -4", "grad -4", "grad 3", "grad 1"])
    keep_for_docs(screenshot(driver, tmp_path, "playground"), "playground.png")

    # A new expression, typed: the graph, the result and the URL follow it.
    draw(driver, "x*y + z", "x=3, y=2, z=1")
    wait_for(driver, lambda d: "x*y + z" in d.find_element(By.ID, "result").text, "the new expression's result")
    graph_state(driver)
    assert text("result").split() == "f = x*y + z = 7 ∂f/∂x = 2 ∂f/∂y = 3 ∂f/∂z = 1".split()
    assert text("step-index") == "step 0 of 4"
    assert "expr=x*y+%2B+z" in driver.current_url and "x=3" in driver.current_url
    # In a text field the arrows move the cursor; once the learner clicks elsewhere they step.
    driver.find_element(By.ID, "expr").send_keys(Keys.ARROW_RIGHT)
    assert shown_step(driver) == 0
    driver.find_element(By.ID, "step-text").click()
    ActionChains(driver).send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT).perform()
    assert shown_step(driver) == 2
    ActionChains(driver).send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT).perform()
    assert shown_step(driver) == 4
    assert grads_table(driver) == {"x": "2", "y": "3", "(x * y)": "1", "z": "1", "f": "1"}
    assert js_errors(driver) == []
    screenshot(driver, tmp_path, "playground_typed")


def test_playground_bad_expression_shows_the_message_and_keeps_serving(driver, playground, tmp_path):
    from selenium.webdriver.common.by import By

    driver.get(playground + "/?expr=(x%2By)*z&x=-2&y=5&z=-4")
    graph_state(driver)
    draw(driver, "x +* y", "x=1, y=2")
    graph_state(driver, "error")
    message = driver.find_element(By.ID, "error").text
    assert message == "cannot parse 'x +* y': invalid syntax at column 4"
    assert driver.find_element(By.ID, "result").text == ""
    screenshot(driver, tmp_path, "playground_error")
    # No eval: a call the whitelist does not know is refused with a message, not run.
    draw(driver, "__import__('os').getcwd()", "")
    wait_for(driver, lambda d: d.find_element(By.ID, "error").text not in ("", message), "the second message")
    graph_state(driver, "error")
    assert "__import__" in driver.find_element(By.ID, "error").text
    # Hostile requests straight at the server: each is refused, and the server goes on.
    assert get_status(playground + "/api/graph?expr=" + "x%2B" * 2000 + "x&x=1") in (400, 414)
    assert get_status(playground + "/api/graph?expr=x**1000000&x=2") == 400
    assert get_status(playground + "/api/graph?expr=(x%2By") == 400
    # The same page draws a good expression afterwards.
    draw(driver, "x * y", "x=3, y=-2")
    graph_state(driver)
    assert driver.find_element(By.ID, "error").text == ""
    assert driver.find_element(By.ID, "result").text.split() == "f = x * y = -6 ∂f/∂x = -2 ∂f/∂y = 3".split()
    assert js_errors(driver, network=False) == []


def loss_shown(driver) -> float:
    from selenium.webdriver.common.by import By

    text = driver.find_element(By.ID, "train-loss").text  # "loss 0.6762"
    assert text.startswith("loss "), text
    return float(text.split()[1])


def steps_trained(driver) -> int:
    from selenium.webdriver.common.by import By

    return int(driver.find_element(By.ID, "panel-train").get_attribute("data-step"))


def test_playground_trains_xor_live(driver, playground, tmp_path):
    import time

    from selenium.webdriver.common.by import By

    driver.get(playground + "/#train")
    panel = driver.find_element(By.ID, "panel-train")
    if not panel.is_displayed():
        driver.find_element(By.ID, "tab-train").click()
    driver.find_element(By.ID, "train-reset").click()
    wait_for(driver, lambda d: panel.get_attribute("data-running") == "true" and steps_trained(d) > 0,
             "the XOR training to start")
    first = loss_shown(driver)
    assert 0.5 < first < 0.9  # near ln 2: a fresh network guesses
    # The loss goes down over a few seconds (the net leaves the ln 2 plateau within a few hundred steps).
    wait_for(driver, lambda d: loss_shown(d) < first / 2, "the training loss to halve")
    assert len(driver.find_element(By.ID, "loss-line").get_attribute("points").split()) > 10
    # The picture is redrawn while training runs: read it in one go, in the page.
    p, points = driver.execute_script(
        "return [Array.from(document.querySelectorAll('#boundary rect.cell'), c => Number(c.dataset.p)),"
        " document.querySelectorAll('#boundary circle.point').length];")
    assert (len(p), points) == (21 * 21, 4)
    assert min(p) < 0.2 and max(p) > 0.8  # the boundary separates the plane, not a flat 0.5

    # Pause stops the steps; resume goes on from there.
    driver.find_element(By.ID, "train-toggle").click()
    wait_for(driver, lambda d: panel.get_attribute("data-running") == "false", "the training to pause")
    paused_at = steps_trained(driver)
    time.sleep(0.5)
    assert steps_trained(driver) == paused_at
    driver.find_element(By.ID, "train-toggle").click()
    wait_for(driver, lambda d: steps_trained(d) > paused_at, "the training to resume")
    assert js_errors(driver) == []
    screenshot(driver, tmp_path, "playground_training")
