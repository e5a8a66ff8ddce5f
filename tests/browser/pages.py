"""The notebook page as a student uses it, in JupyterLab 4 or the classic Notebook 6:
open a notebook, run a cell with Shift+Enter, Run All, restart the kernel and run all
from the menus, type into a code cell. One class; the two front ends differ only in the
selectors and menu entries of :data:`FRONTENDS`.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement

from .server import JupyterServer


@dataclass(frozen=True)
class Frontend:
    """What differs between JupyterLab and the classic Notebook, for these tests."""

    cell: str  # every cell, in order
    prompt: str  # the input prompt of a cell ("[3]:" / "In [3]:")
    editor: str  # the code editor of a cell
    output: str  # the output area of a cell
    error: str  # an error output inside a cell
    menu: str  # a top-level menu by its label
    menu_item: str  # an entry of the open menu by its label
    run_all: tuple[str, str]  # (menu, entry)
    restart_run_all: tuple[str, str]
    confirm: str  # the confirming button of a dialog


FRONTENDS = {
    "lab": Frontend(
        cell=".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell",  # the shown tab's
        prompt=".jp-InputPrompt",
        editor=".cm-content",
        output=".jp-Cell-outputArea",
        error='[data-mime-type="application/vnd.jupyter.stderr"], '
        '[data-mime-type="application/vnd.jupyter.error"]',
        menu="//li[contains(@class,'lm-MenuBar-item')][.//div[text()='{}']]",
        menu_item="//li[contains(@class,'lm-Menu-item')][.//div[starts-with(text(),'{}')]]",
        run_all=("Run", "Run All Cells"),
        restart_run_all=("Kernel", "Restart Kernel and Run All Cells"),
        confirm=".jp-Dialog-button.jp-mod-accept",
    ),
    "classic": Frontend(
        cell="#notebook-container .cell",
        prompt=".input_prompt",
        editor=".CodeMirror",
        output=".output_wrapper",
        error=".output_error",
        menu="//a[contains(@class,'dropdown-toggle')][normalize-space(text())='{}']",
        menu_item="//ul[contains(@class,'dropdown-menu')]//a[starts-with(normalize-space(.),'{}')]",
        run_all=("Cell", "Run All"),
        restart_run_all=("Kernel", "Restart & Run All"),
        confirm=".modal-footer .btn-danger",
    ),
}

#: A prompt that shows a finished execution: "[12]:" or "In [12]:".
DONE = re.compile(r"\[(\d+)\]")


class CellError(AssertionError):
    """A cell of the notebook failed in the browser."""


class NotebookPage:
    """One open notebook in one front end."""

    def __init__(self, driver: WebDriver, server: JupyterServer, path: str):
        self.driver, self.server, self.path = driver, server, path
        self.ui = FRONTENDS[server.frontend]
        notebook = json.loads((server.root / path).read_text())
        self.cell_ids = [cell.get("id") for cell in notebook["cells"]]
        self.code_indices = [
            i for i, cell in enumerate(notebook["cells"]) if cell["cell_type"] == "code"
        ]

    # -- waiting ------------------------------------------------------------------------
    def wait(self, condition: Callable[[], object], timeout: float, what: str, poll=0.2):
        """``condition()``'s first true value; fails after ``timeout`` s with ``what``."""
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what}: not within {timeout:.0f} s")
            time.sleep(poll)

    def open(self, timeout: float = 120.0) -> NotebookPage:
        """Load the page and wait until every cell is shown and the kernel is ready."""
        self.driver.get(self.server.notebook_url(self.path))
        self.wait(
            lambda: len(self.cells()) == len(self.cell_ids), timeout,
            f"{self.path}: all {len(self.cell_ids)} cells shown",
        )  # fmt: skip
        self.wait(self.kernel_ready, timeout, f"{self.path}: a kernel started")
        return self

    def sessions(self) -> list[dict]:
        """The server's sessions (notebook and kernel) for this notebook."""
        return [s for s in self.server.api("sessions") if s["path"].endswith(self.path)]

    def kernel_ready(self) -> bool:
        """True when the notebook's kernel exists and is idle (asked through the REST API)."""
        sessions = self.sessions()
        return bool(sessions) and sessions[0]["kernel"]["execution_state"] == "idle"

    def close(self) -> None:
        """Shut the notebook's kernel down (its memory goes back to the next notebook)."""
        for session in self.sessions():
            self.server.api(f"sessions/{session['id']}", method="DELETE")

    # -- cells --------------------------------------------------------------------------
    def cells(self) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, self.ui.cell)

    def index(self, cell_id: str) -> int:
        """The position of the cell with this id (as committed in the notebook)."""
        if cell_id not in self.cell_ids:
            raise KeyError(f"{self.path} has no cell with id {cell_id!r}")
        return self.cell_ids.index(cell_id)

    def cell(self, cell_id: str) -> WebElement:
        return self.cells()[self.index(cell_id)]

    def output(self, cell_id: str) -> WebElement:
        return self.cell(cell_id).find_element(By.CSS_SELECTOR, self.ui.output)

    def prompt_count(self, cell: WebElement) -> int | None:
        """The execution count a code cell's prompt shows (None: not run, or running)."""
        found = DONE.search(cell.find_element(By.CSS_SELECTOR, self.ui.prompt).text)
        return int(found.group(1)) if found else None

    def scroll_to(self, element: WebElement, where: str = "center") -> None:
        self.driver.execute_script(f"arguments[0].scrollIntoView({{block: '{where}'}})", element)

    def raise_errors(self, cells: list[WebElement] | None = None) -> None:
        """Fail with the text of the first error output in ``cells`` (default: all)."""
        for cell in cells if cells is not None else self.cells():
            errors = cell.find_elements(By.CSS_SELECTOR, self.ui.error)
            text = "\n".join(e.text for e in errors if e.text.strip())
            if errors and ("Error" in text or "Traceback" in text):
                raise CellError(f"{self.path}: a cell failed in the browser:\n{text[-2000:]}")

    def run(self, cell_id: str, timeout: float = 600.0) -> float:
        """Select the cell, press Shift+Enter, wait until it finished; returns seconds."""
        cell = self.cell(cell_id)
        before = self.prompt_count(cell)
        self.scroll_to(cell)
        cell.find_element(By.CSS_SELECTOR, self.ui.editor).click()  # as a student does
        start = time.monotonic()
        ActionChains(self.driver).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(
            Keys.SHIFT
        ).perform()
        self.wait(
            lambda: self.prompt_count(cell) not in (None, before), timeout,
            f"{self.path}: cell {cell_id} finished",
        )  # fmt: skip
        seconds = time.monotonic() - start
        self.raise_errors([cell])
        return seconds

    def type_code(self, cell_id: str, code: str) -> None:
        """Replace a code cell's text by typing ``code`` (one line) into its editor."""
        cell = self.cell(cell_id)
        self.scroll_to(cell)
        editor = cell.find_element(By.CSS_SELECTOR, self.ui.editor)
        editor.click()
        ActionChains(self.driver).key_down(Keys.CONTROL).send_keys("a").key_up(
            Keys.CONTROL
        ).send_keys(Keys.DELETE).send_keys(code).send_keys(Keys.ESCAPE).perform()
        shown = cell.find_element(By.CSS_SELECTOR, self.ui.editor).text
        assert shown.strip() == code, f"typed {code!r}, the editor shows {shown!r}"

    def menu(self, menu: str, entry: str) -> None:
        """Click a menu, then one of its entries (by the start of its label)."""
        self.driver.find_element(By.XPATH, self.ui.menu.format(menu)).click()
        self.wait(
            lambda: [
                e for e in self.driver.find_elements(By.XPATH, self.ui.menu_item.format(entry))
                if e.is_displayed()
            ],
            10, f"menu {menu} > {entry}",
        )[0].click()  # fmt: skip

    def run_all(self, restart: bool = False, timeout: float = 900.0) -> float:
        """Run All (or Restart Kernel and Run All, confirming the dialog) from the menu and
        wait until every code cell ran; returns seconds."""
        start = time.time()
        self.menu(*(self.ui.restart_run_all if restart else self.ui.run_all))
        if restart:
            self.wait(
                lambda: [b for b in self.driver.find_elements(By.CSS_SELECTOR, self.ui.confirm)
                         if b.is_displayed()],
                10, "the restart dialog",
            )[0].click()  # fmt: skip
        # the cells are queued ("[*]") once the kernel is ready; until then the old counts
        # (and, after a restart, the old outputs) still show
        self.wait(self._any_queued, 120, f"{self.path}: the cells queued", poll=0.1)
        self.wait(lambda: self._all_ran(start), timeout, f"{self.path}: every cell ran", poll=1)
        self.raise_errors()
        return time.time() - start

    def _any_queued(self) -> bool:
        prompts = self.driver.find_elements(By.CSS_SELECTOR, f"{self.ui.cell} {self.ui.prompt}")
        return any("*" in prompt.text for prompt in prompts)

    def _all_ran(self, since: float) -> bool:
        code = [self.cells()[i] for i in self.code_indices]
        counts = [self.prompt_count(cell) for cell in code]
        if self.cells() and any(
            cell.find_elements(By.CSS_SELECTOR, self.ui.error) for cell in code
        ):
            self.raise_errors(code)
        if None in counts or counts != sorted(counts):
            return False
        kernel = self.sessions()[0]["kernel"]
        active = _timestamp(kernel["last_activity"])
        return kernel["execution_state"] == "idle" and active > since

    def screenshot(self, folder: Path, name: str, element: WebElement | None = None) -> Path:
        """Save a screenshot of the page (or of ``element``, scrolled into view)."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        if element is not None:
            self.scroll_to(element, "start")
            element.screenshot(str(path))
        else:
            self.driver.save_screenshot(str(path))
        return path


def _timestamp(text: str) -> float:
    """Seconds since the epoch of an ISO time from the Jupyter API ("...Z" or "+00:00")."""
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
