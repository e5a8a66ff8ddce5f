"""The explorer of notebook 09 in a real browser: it renders; every registered method
redraws the map when chosen in the menu and when the opacity slider moves; a setting's
slider (or layer menu) recomputes the map, for one method of each kind of control; each
update's latency is measured from the click to the new picture and printed per method.

In JupyterLab (ipywidgets 8) every registered method is chosen. In the classic Notebook
(ipywidgets 7, Colab's widget version) the widgets are the same for every method, so one
method per kind of control (none, an int slider, a float slider, a layer menu, a signed
map) is enough there and keeps CI short.

The latency goal (issue 20): every update at a method's explorer setting within 2 s on
Lite0 on 2 cores, the first use of a method (TensorFlow compiling its functions) included.
CI runs this beside other steps, where wall-clock times say little, so the test asserts:

* always, what any load leaves true: the kernel's CPU time for the update (all threads)
  is at most 2 x 2 s, since 2 cores cannot finish more than that in 2 s (necessary for
  the goal, not sufficient);
* on a quiet machine, the goal itself, from the click to the new picture in the
  browser, for each update that ran without waiting for a core (the kernel's wall-clock
  time at most its CPU time, plus a little: a computing process on a busy machine waits).
  Quiet: a per-pass floor, measured just before, of at most 1.25 x QUIET_FLOOR, and a
  1-minute load average of at most QUIET_LOAD (this test's kernel, browser and server
  make about 2).

The table always shows both, with the load average.
"""

from __future__ import annotations

import os

import pytest

from helpers.methods.registry import METHODS

from .conftest import REPORT
from .kernel import floor_seconds, last_update
from .pages import NotebookPage
from .widgets import Dropdown, Image, Slider, html_text

NOTEBOOK = "notebooks/09_evaluating_saliency.ipynb"
#: The cells a student runs to reach the explorer: setup, solution switch, model and
#: images, the explorer and its check (the sanity check and the curves are not needed).
CELLS = ("09-001", "09-solution", "09-004", "09-026", "09-027")
GOAL_SECONDS = 2.0
#: One forward+backward pass of Lite0 (vanilla gradients, batch 1, mean of 10) on the
#: 2-core machine with nothing else running; a floor up to 1.25 x this counts as quiet.
QUIET_FLOOR = float(os.environ.get("COURSE_QUIET_FLOOR", "0.030"))
QUIET_LOAD = 3.0
UPDATE_TIMEOUT = 180.0


@pytest.fixture(scope="module")
def page(driver, server):
    page = NotebookPage(driver, server, NOTEBOOK).open()
    for cell in CELLS:
        page.run(cell)
    yield page
    page.close()


@pytest.fixture(scope="module")
def root(page):
    return page.output("09-026")


def chosen_methods(frontend: str) -> list:
    """Every registered method in JupyterLab; in the classic Notebook the first method of
    each kind of control, the first signed one, and the first without controls."""
    methods = list(METHODS.values())
    if frontend == "lab":
        return methods
    kinds: dict[str, object] = {}
    for method in methods:
        kind = method.controls[0].kind if method.controls else "none"
        kinds.setdefault(kind, method)
        if method.signed:
            kinds.setdefault("signed", method)
    return [m for m in methods if m in kinds.values()]


def test_the_explorer_renders(page, root, artifacts):
    image = Image(page.driver, root)
    page.wait(image.shown, 30, "the explorer's picture is shown")
    status = html_text(root)
    assert "Grad-CAM" in status and "Error" not in status, status
    assert Dropdown(root, "Method").options() == [m.title for m in METHODS.values()]
    page.screenshot(artifacts, f"explorer-{page.server.frontend}", page.cell("09-026"))


def _update(page, image, action, what: str, gesture: bool = False) -> float:
    """Do ``action``, wait for the new picture (its bytes differ); returns the latency from
    the click (from the end of the ``gesture``: a drag is sent when the mouse is released)."""
    before = image.state()
    started = image.now()
    action()
    if gesture:
        started = image.now()
    seconds, state = image.wait_change(before, started, UPDATE_TIMEOUT)
    assert state["hash"] != before["hash"], f"{what}: the picture did not change"
    status = html_text(page.output("09-026"))
    assert "Error" not in status, f"{what}: {status}"
    return seconds


def _setting_action(root, driver, method):
    """(what, action) that changes the method's first setting: one step of its slider
    towards the cheaper end (fewer samples or patches), or another layer in its menu."""
    control = method.controls[0]
    if control.kind == "layer":
        menu = Dropdown(root, control.label)
        assert menu.is_displayed(), f"{method.title}: its layer menu is hidden"
        other = menu.options()[-2]  # a late layer: Grad-CAM's maps there are meaningful
        if other == menu.value:
            other = menu.options()[-1]
        return f"layer {other}", lambda: menu.choose(other)
    slider = Slider(root, control.label)
    assert slider.is_displayed(), f"{method.title}: its {control.label} slider is hidden"
    return f"{control.label} -1 step", lambda: slider.step(driver, -1)


def test_every_method_redraws_in_time(page, root, artifacts):
    driver, frontend = page.driver, page.server.frontend
    image = Image(driver, root)
    menu, opacity = Dropdown(root, "Method"), Slider(root, "Overlay opacity")
    rows, settings_done = [], set()
    for i, method in enumerate(chosen_methods(frontend)):
        floor = floor_seconds(page.server, NOTEBOOK)
        if i == 0 and menu.value == method.title:  # shown already (for the cat)
            photo = Dropdown(root, "Image")
            other = next(o for o in photo.options() if o != photo.value)
            action = lambda p=photo, o=other: p.choose(o)  # noqa: E731
            chosen = _update(page, image, action, "another photo")
        else:
            chosen = _update(page, image, lambda m=method: menu.choose(m.title), method.title)
        kernel = last_update(page.server, NOTEBOOK)
        assert method.title in html_text(root)
        page.screenshot(artifacts, f"explorer-{frontend}-{method.name}", image.element)
        step = 25 if float(opacity.readout) < 0.5 else -25
        drag = lambda s=step: opacity.drag(driver, s)  # noqa: E731
        redraw = _update(page, image, drag, "opacity", gesture=True)
        setting = None
        kind = method.controls[0].kind if method.controls else None
        if kind and kind not in settings_done:  # one method per kind of control
            settings_done.add(kind)
            what, action = _setting_action(root, driver, method)
            setting = (what, _update(page, image, action, f"{method.title}: {what}"))
        quiet = floor <= 1.25 * QUIET_FLOOR and os.getloadavg()[0] <= QUIET_LOAD
        rows.append((method, chosen, kernel, redraw, setting, floor if quiet else -floor))
    table = latency_table(rows, frontend)
    (artifacts / f"latency-{frontend}.md").write_text("\n".join(table) + "\n")
    REPORT.extend(["", *table])
    cores = 2 * GOAL_SECONDS  # the CPU seconds 2 cores have in the goal's time
    slow = [f"{m.title}: {cpu:.2f} CPU s" for m, _, (_, cpu), *_ in rows if cpu > cores]
    assert not slow, f"more CPU than 2 cores have in {GOAL_SECONDS} s: {slow}"
    quiet = [(m.title, t) for m, t, (wall, cpu), *_, f in rows if f > 0 and wall <= 1.1 * cpu + 0.1]
    REPORT.append(f"updates that ran on a quiet machine (2 s goal asserted): {quiet}")
    late = [(title, t) for title, t in quiet if t > GOAL_SECONDS]
    assert not late, f"on a quiet machine, over {GOAL_SECONDS} s in the browser: {late}"


def latency_table(rows, frontend: str) -> list[str]:
    """The per-method latency as a Markdown table, with the load it was measured under."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [
        f"Explorer latency in the browser ({frontend}, load average {load}): click to new "
        "picture; the kernel's own time and CPU time (all threads) for the update; the "
        "floor is one forward+backward pass, measured just before",
        "",
        "| method | explorer setting | chosen: browser s | kernel s | kernel CPU s "
        "| opacity (after release): browser s | a setting changed: browser s | floor s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for method, chosen, (kernel, cpu), redraw, setting, floor in rows:
        names = [*(c.setting for c in method.controls), *method.explorer]
        values = method.settings(**method.explorer)
        shown = ", ".join(f"{n}={values[n]}" for n in dict.fromkeys(names)) or "-"
        changed = f"{setting[1]:.2f} ({setting[0]})" if setting else ""
        lines.append(
            f"| {method.title} | {shown} | {chosen:.2f} | {kernel:.2f} | {cpu:.2f} "
            f"| {redraw:.2f} | {changed} | {abs(floor):.3f}{'' if floor > 0 else ' (busy)'} |"
        )
    return lines
