"""Fixtures of the browser tests: a Jupyter server on a copy of the course, a headless
Chromium driven by Selenium through the system's chromedriver, and a folder for
screenshots and the latency table.

Settings (environment variables):

* ``COURSE_BROWSER_PYTHON``: the Python whose environment runs Jupyter and the kernel
  (default: this one). Its ipywidgets decides the front end: 8 runs in JupyterLab 4, 7
  (Colab's version) in the classic Notebook 6, the newest front end that runs it.
* ``COURSE_BROWSER_ARTIFACTS``: where screenshots, the latency table and, on failure, the
  page and the server's log go (default: a temporary folder, printed at the end).
* ``COURSE_CHROMIUM``, ``COURSE_CHROMEDRIVER``: the browser and its driver (default: the
  Debian packages' /usr/bin/chromium and /usr/bin/chromedriver).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from .server import JupyterServer, copy_course, environment_versions, unmet_course_requirements

CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("COURSE_CHROMEDRIVER", "/usr/bin/chromedriver")
#: Chromium's flags on a machine without a display, a sandbox or an internet connection.
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1400,1000",
)  # fmt: skip

REPORT: list[str] = []  # lines printed at the end of the run (the latency table)


def _missing_browser() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (shutil.which(path) or Path(path).is_file()):
            return f"{path} not found (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the selenium package is not installed (pip install 'selenium>=4.30,<5')"
    return None


@pytest.fixture(scope="session")
def artifacts() -> Path:
    folder = os.environ.get("COURSE_BROWSER_ARTIFACTS")
    path = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="browser-artifacts-"))
    path.mkdir(parents=True, exist_ok=True)
    REPORT.append(f"browser test artifacts (screenshots, latency table): {path}")
    return path


@pytest.fixture(scope="session")
def versions() -> dict[str, str]:
    python = os.environ.get("COURSE_BROWSER_PYTHON", sys.executable)
    return {"python": python, **environment_versions(python)}


@pytest.fixture(scope="session")
def server(tmp_path_factory, versions, artifacts):
    missing = _missing_browser()
    if missing:
        pytest.skip(f"no browser for the browser test: {missing}")
    widgets = versions.get("ipywidgets", "")
    frontend = "classic" if widgets.startswith("7.") else "lab"
    if frontend == "classic" and not versions.get("notebook", "").startswith("6."):
        pytest.fail(f"ipywidgets {widgets} needs the classic Notebook 6; found {versions}")
    if frontend == "lab" and "jupyterlab" not in versions:
        pytest.fail(f"ipywidgets {widgets} runs in JupyterLab, which is missing: {versions}")
    unmet = unmet_course_requirements(versions["python"])
    if unmet:
        pytest.fail(
            f"{versions['python']} lacks the course's {', '.join(unmet)}: install them there "
            "(in the Colab simulation the setup cell does, in its first run)"
        )
    REPORT.append(f"front end: {frontend}, " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    home = tmp_path_factory.mktemp("jupyter")
    course = copy_course(tmp_path_factory.mktemp("course"))
    jupyter = JupyterServer(versions["python"], frontend, course, home).start()
    yield jupyter
    jupyter.stop()
    shutil.copy2(jupyter.log, artifacts / f"jupyter-{frontend}.log")


@pytest.fixture(scope="session")
def driver(server):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options.add_argument(f"--user-data-dir={profile}")
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    browser.set_script_timeout(30)
    yield browser
    browser.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failure, save the page's screenshot and HTML and the server's log."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    browser = item.funcargs.get("driver")
    folder = item.funcargs.get("artifacts")
    jupyter = item.funcargs.get("server")
    if browser is None or folder is None:
        return
    stem = folder / f"FAILED-{item.name}"
    try:
        browser.save_screenshot(f"{stem}.png")
        Path(f"{stem}.html").write_text(browser.page_source, encoding="utf-8")
    except Exception as error:  # the browser itself may be gone
        Path(f"{stem}.txt").write_text(f"no screenshot: {error}\n")
    if jupyter is not None:
        Path(f"{stem}-server.log").write_text(jupyter.tail(200), encoding="utf-8")


def pytest_terminal_summary(terminalreporter):
    for line in REPORT:
        terminalreporter.write_line(line)
