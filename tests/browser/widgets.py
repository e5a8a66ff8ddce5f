"""ipywidgets as they appear in the page (the same classes in ipywidgets 7 and 8, except the
slider's library: noUiSlider in 8, jQuery UI in 7), found by their labels and used with
the mouse and the keyboard as a student would.
"""

from __future__ import annotations

import time

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.select import Select

SLIDER_HANDLE = ".noUi-handle, .ui-slider-handle"  # ipywidgets 8, ipywidgets 7

#: Watches an <img>: counts src changes, remembers when the last one happened
#: (performance.now(), ms), and hashes the picture's bytes (SHA-256) as soon as it changes
#: (the widget revokes the previous blob URL, so it is read at once).
WATCH_IMAGE = """
const img = arguments[0];
if (img.__watch) { return; }
const watch = img.__watch = {changes: 0, changedAt: 0, hash: null, bytes: 0};
async function digest(src) {
    const data = await (await fetch(src)).arrayBuffer();
    const hash = await crypto.subtle.digest('SHA-256', data);
    return [Array.from(new Uint8Array(hash)).map(b => b.toString(16).padStart(2, '0'))
        .join(''), data.byteLength];
}
async function record() {
    const src = img.src;
    try { [watch.hash, watch.bytes] = await digest(src); } catch (e) { watch.hash = 'unread'; }
}
new MutationObserver(() => {
    watch.changes += 1;
    watch.changedAt = performance.now();
    watch.hash = null;
    record();
}).observe(img, {attributes: true, attributeFilter: ['src']});
record();
"""


def _text(element: WebElement) -> str:
    return element.text.replace("\xa0", " ").strip()


def labelled(root: WebElement, kind: str, label: str) -> WebElement:
    """The widget of class ``widget-<kind>`` whose label reads ``label``."""
    for widget in root.find_elements(By.CSS_SELECTOR, f".widget-{kind}"):
        names = widget.find_elements(By.CSS_SELECTOR, "label.widget-label")
        if names and _text(names[0]) == label:
            return widget
    raise LookupError(f"no {kind} labelled {label!r}")


class Dropdown:
    """A ``Dropdown``: its <select>."""

    def __init__(self, root: WebElement, label: str):
        self.widget = labelled(root, "dropdown", label)
        self.select = self.widget.find_element(By.TAG_NAME, "select")

    def options(self) -> list[str]:
        return [_text(option) for option in Select(self.select).options]

    @property
    def value(self) -> str:
        return _text(Select(self.select).first_selected_option)

    def choose(self, text: str) -> None:
        """Pick an option by its text, as a click in the open list does."""
        Select(self.select).select_by_index(self.options().index(text))

    def is_displayed(self) -> bool:
        return self.widget.is_displayed()


class Slider:
    """An ``IntSlider`` or ``FloatSlider``: dragged with the mouse or stepped with the keys."""

    def __init__(self, root: WebElement, label: str):
        self.widget = labelled(root, "slider", label)
        self.handle = self.widget.find_element(By.CSS_SELECTOR, SLIDER_HANDLE)

    @property
    def readout(self) -> str:
        return _text(self.widget.find_element(By.CSS_SELECTOR, ".widget-readout"))

    def drag(self, driver: WebDriver, pixels: int) -> None:
        """Drag the handle sideways by ``pixels`` and let go (one update on release)."""
        ActionChains(driver).click_and_hold(self.handle).pause(0.1).move_by_offset(pixels, 0).pause(
            0.1
        ).release().perform()

    def step(self, driver: WebDriver, steps: int) -> None:
        """Click the handle's centre (it does not move), then press an arrow key."""
        key = Keys.ARROW_RIGHT if steps > 0 else Keys.ARROW_LEFT
        ActionChains(driver).click(self.handle).perform()
        for _ in range(abs(steps)):
            self.handle.send_keys(key)

    def is_displayed(self) -> bool:
        return self.widget.is_displayed()


class Image:
    """An ``Image`` widget, watched for changes (see :data:`WATCH_IMAGE`)."""

    def __init__(self, driver: WebDriver, root: WebElement):
        self.driver = driver
        self.element = root.find_element(By.CSS_SELECTOR, "img.widget-image")
        driver.execute_script(WATCH_IMAGE, self.element)

    def state(self) -> dict:
        return self.driver.execute_script("return arguments[0].__watch", self.element)

    def shown(self) -> bool:
        """The picture is decoded and has a size (not a broken or empty image)."""
        return self.driver.execute_script(
            "const i = arguments[0]; return i.complete && i.naturalWidth > 0", self.element
        )

    def now(self) -> float:
        return self.driver.execute_script("return performance.now()")

    def wait_change(self, since: dict, started: float, timeout: float) -> tuple[float, dict]:
        """Wait until the picture changed after ``since`` (a :meth:`state`) and its bytes
        are hashed; returns (seconds from ``started`` (a :meth:`now`) to the change, state)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.state()
            if state["changes"] > since["changes"] and state["hash"]:
                return (state["changedAt"] - started) / 1000.0, state
            time.sleep(0.05)
        raise TimeoutError(f"the picture did not change within {timeout:.0f} s")


class TextBox:
    """A ``Textarea``."""

    def __init__(self, element: WebElement):
        self.element = element

    @property
    def value(self) -> str:
        return self.element.get_attribute("value")

    def type(self, text: str, replace: bool = False) -> None:
        """Click into the box and type (after selecting all of it, if ``replace``)."""
        self.element.click()
        if replace:
            self.element.send_keys(Keys.CONTROL, "a")
            self.element.send_keys(Keys.DELETE)
        self.element.send_keys(text)


def html_text(root: WebElement, index: int = -1) -> str:
    """The text of an ``HTML`` widget in ``root`` (by position; default the last)."""
    found = root.find_elements(By.CSS_SELECTOR, ".widget-html-content")
    return _text(found[index]) if found else ""


def button(root: WebElement, text: str) -> WebElement:
    """The ``Button`` whose text reads ``text``."""
    for candidate in root.find_elements(By.CSS_SELECTOR, "button.jupyter-button"):
        if _text(candidate) == text:
            return candidate
    raise LookupError(f"no button {text!r}")
