"""A Jupyter server for the browser tests: JupyterLab 4 (ipywidgets 8) or the classic
Notebook 6 (ipywidgets 7, Colab's widget version), from any Python environment.

Started on a free loopback port with a random token, in its own process group, with its
own config, data, runtime and settings folders (nothing from the user's Jupyter setup),
serving a copy of the course so that the notebooks' results land in a temporary folder.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: What a copy of the course needs to run its notebooks (no .git, no venv, no results).
COURSE_PARTS = ("helpers", "notebooks", "data", "pyproject.toml", "requirements.txt")

#: JupyterLab settings: every cell in the page (no virtual scrolling), nothing fetched
#: from the internet (news, update checks).
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def copy_course(target: Path) -> Path:
    """A copy of the course (what the notebooks need) in ``target``; returns it."""
    ignore = shutil.ignore_patterns("__pycache__", "results", ".ipynb_checkpoints", "output")
    for part in COURSE_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, target / part, ignore=ignore)
        else:
            shutil.copy2(source, target / part)
    return target


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment_versions(python: str) -> dict[str, str]:
    """Versions of the front-end and widget packages in the environment of ``python``."""
    code = (
        "import json, importlib.metadata as m\n"
        "names = ('ipywidgets', 'notebook', 'jupyterlab', 'widgetsnbextension', "
        "'jupyterlab_widgets', 'ipykernel')\n"
        "out = {}\n"
        "for n in names:\n"
        "    try: out[n] = m.version(n)\n"
        "    except m.PackageNotFoundError: pass\n"
        "print(json.dumps(out))"
    )
    result = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def unmet_course_requirements(python: str) -> list[str]:
    """The course's requirements that the environment of ``python`` lacks (as the setup
    cell sees them: test tools left out)."""
    code = (
        "import helpers.install as i; "
        "print('\\n'.join(map(str, i.unmet_requirements(i.read_requirements()))))"
    )
    result = subprocess.run([python, "-c", code], capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        return [f"(could not check: {result.stderr.strip()[-300:]})"]
    return result.stdout.split()


@dataclass
class JupyterServer:
    """A running Jupyter server; :meth:`start` it, :meth:`stop` it."""

    python: str
    frontend: str  # "lab" (JupyterLab 4, ipywidgets 8) or "classic" (Notebook 6, ipywidgets 7)
    root: Path  # the folder it serves (a copy of the course)
    home: Path  # its private config, data, runtime and settings folders, and its log
    env: dict[str, str] = field(default_factory=dict)  # extra variables for server and kernels
    port: int = 0
    token: str = ""
    process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.home / "server.log"

    @property
    def runtime_dir(self) -> Path:
        return self.home / "runtime"

    def notebook_url(self, path: str) -> str:
        """The page that opens the notebook ``path`` (relative to :attr:`root`)."""
        if self.frontend == "lab":  # a fresh workspace: this notebook's tab alone
            return f"{self.base}/lab/tree/{path}?reset&token={self.token}"
        return f"{self.base}/notebooks/{path}?token={self.token}"

    def command(self) -> list[str]:
        common = ["--no-browser", "--allow-root"]
        if self.frontend == "lab":
            settings = self.home / "lab-settings"
            for name, values in LAB_SETTINGS.items():
                (settings / name).parent.mkdir(parents=True, exist_ok=True)
                (settings / name).write_text(json.dumps(values))
            return [
                self.python, "-m", "jupyterlab", *common,
                "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
                "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
                f"--ServerApp.root_dir={self.root}", "--ServerApp.terminals_enabled=False",
                f"--LabApp.user_settings_dir={settings}",
                f"--LabApp.workspaces_dir={self.home / 'workspaces'}",
                "--LabApp.extension_manager=readonly",
            ]  # fmt: skip
        return [
            self.python, "-m", "notebook", *common,
            "--NotebookApp.ip=127.0.0.1", f"--NotebookApp.port={self.port}",
            "--NotebookApp.port_retries=0", f"--NotebookApp.token={self.token}",
            f"--NotebookApp.notebook_dir={self.root}", "--NotebookApp.terminals_enabled=False",
        ]  # fmt: skip

    def start(self, timeout: float = 120.0) -> JupyterServer:
        """Start the server and wait until it answers; raises with its log if it does not."""
        self.port, self.token = free_port(), secrets.token_hex(16)
        for name in ("config", "data", "runtime", "ipython"):
            (self.home / name).mkdir(parents=True, exist_ok=True)
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("JUPYTER", "COURSE_", "PYTEST", "IPYTHON"))
        }
        env.update(
            JUPYTER_CONFIG_DIR=str(self.home / "config"),
            JUPYTER_DATA_DIR=str(self.home / "data"),
            JUPYTER_RUNTIME_DIR=str(self.runtime_dir),
            IPYTHONDIR=str(self.home / "ipython"),
            TF_CPP_MIN_LOG_LEVEL="3",
            PYTHONDONTWRITEBYTECODE="1",
        )
        env.update(self.env)
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                self.command(), cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the Jupyter server exited:\n{self.tail()}")
            try:
                with urllib.request.urlopen(
                    f"{self.base}/api/status?token={self.token}", timeout=5
                ):
                    return self
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(
            f"the Jupyter server did not answer within {timeout:.0f} s:\n{self.tail()}"
        )

    def tail(self, lines: int = 40) -> str:
        """The end of the server's log (kernel errors land there too)."""
        if not self.log.is_file():
            return "(no log)"
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def kernel_connection_files(self) -> list[Path]:
        """Connection files of the kernels this server started, newest first."""
        files = self.runtime_dir.glob("kernel-*.json")
        return sorted(files, key=lambda path: path.stat().st_mtime, reverse=True)

    def api(self, path: str, method: str = "GET"):
        """A call to the server's REST API; returns the decoded JSON (None if empty)."""
        request = urllib.request.Request(
            f"{self.base}/api/{path}", method=method,
            headers={"Authorization": f"token {self.token}"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as answer:
            body = answer.read()
        return json.loads(body) if body else None

    def stop(self) -> None:
        """Shut its kernels down (they run in their own sessions), then stop the server."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            for kernel in self.api("kernels"):
                self.api(f"kernels/{kernel['id']}", method="DELETE")
        except OSError:
            pass  # the server is not answering: the signals below still stop it
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.process.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue
