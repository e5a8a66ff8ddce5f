"""Code run in a notebook's kernel beside the page (a second client, as a debugger would
attach): the per-pass floor that the explorer's latency is compared with.

The page shows nothing of it: a front end only displays replies to its own requests.
"""

from __future__ import annotations

import json

from .server import JupyterServer

#: The cost of one forward+backward pass through the explorer's model for its current
#: image and class (vanilla gradients, batch 1), after a warm-up: the mean of ``repeats``
#: (a mean, not the best: on a busy machine it shows the share of the cores the kernel
#: gets, as a map's many passes do).
FLOOR_CODE = """
def _browser_test_floor(repeats={repeats}):
    import json, time
    image = ex.images[ex.image_name]
    cls = int(ex.controls["class"].value)
    helpers.vanilla_gradients(ex.model, image, cls)
    start = time.perf_counter()
    for _ in range(repeats):
        helpers.vanilla_gradients(ex.model, image, cls)
    print(json.dumps((time.perf_counter() - start) / repeats))
_browser_test_floor()
del _browser_test_floor
"""
#: What the explorer measured of its last update: (seconds, CPU seconds).
LAST_UPDATE_CODE = "import json; print(json.dumps([ex.last_seconds, ex.last_cpu_seconds]))"


def kernel_output(server: JupyterServer, notebook: str, code: str, timeout: float = 120) -> str:
    """Run ``code`` in the kernel of the open ``notebook``; returns what it printed."""
    from jupyter_client import BlockingKernelClient

    sessions = [s for s in server.api("sessions") if s["path"].endswith(notebook)]
    if not sessions:
        raise RuntimeError(f"no kernel runs {notebook}")
    connection = server.runtime_dir / f"kernel-{sessions[0]['kernel']['id']}.json"
    client = BlockingKernelClient()
    client.load_connection_file(str(connection))
    client.start_channels()
    try:
        printed: list[str] = []

        def collect(message):
            content = message["content"]
            if message["msg_type"] == "stream" and content.get("name") == "stdout":
                printed.append(content["text"])
            elif message["msg_type"] == "error":
                printed.append("\n".join(content["traceback"]))

        reply = client.execute_interactive(
            code, silent=False, store_history=False, timeout=timeout, output_hook=collect
        )
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"kernel code failed:\n{''.join(printed)}")
        return "".join(printed)
    finally:
        client.stop_channels()


def _last_json(output: str):
    return json.loads(output.strip().splitlines()[-1])


def floor_seconds(server: JupyterServer, notebook: str, repeats: int = 10) -> float:
    """One forward+backward pass on the explorer's model now (see :data:`FLOOR_CODE`)."""
    return float(_last_json(kernel_output(server, notebook, FLOOR_CODE.format(repeats=repeats))))


def last_update(server: JupyterServer, notebook: str) -> tuple[float, float]:
    """The explorer's own measure of its last update: (seconds, CPU seconds)."""
    seconds, cpu = _last_json(kernel_output(server, notebook, LAST_UPDATE_CODE))
    return float(seconds), float(cpu)
