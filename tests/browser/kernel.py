"""Code run in a notebook's kernel beside the page (a second client, as a debugger would
attach): the per-pass floor that the explorer's latency is compared with.

The page shows nothing of it: a front end only displays replies to its own requests.
"""

from __future__ import annotations

import json

from .server import JupyterServer

#: The cost of one forward+backward pass through the explorer's model for its current
#: image and class (vanilla gradients, batch 1): the best of ``repeats`` after a warm-up.
FLOOR_CODE = """
def _browser_test_floor(repeats={repeats}):
    import json, time
    image = ex.images[ex.image_name]
    cls = int(ex.controls["class"].value)
    helpers.vanilla_gradients(ex.model, image, cls)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        helpers.vanilla_gradients(ex.model, image, cls)
        times.append(time.perf_counter() - start)
    print(json.dumps(min(times)))
_browser_test_floor()
del _browser_test_floor
"""


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


def floor_seconds(server: JupyterServer, notebook: str, repeats: int = 5) -> float:
    """One forward+backward pass on the explorer's model now (see :data:`FLOOR_CODE`)."""
    output = kernel_output(server, notebook, FLOOR_CODE.format(repeats=repeats))
    return float(json.loads(output.strip().splitlines()[-1]))
