#!/usr/bin/env bash
# The browser test (tests/browser/): the explorer (notebook 09) and the answer form
# (notebook 11) used in headless Chromium, driven by Selenium through the system's
# chromedriver, in both widget versions students meet:
#   bash .ci/browser.sh install LOG      Debian's chromium and chromium-driver (CI runs as root)
#   bash .ci/browser.sh run PYTHON DIR   tests/browser with PYTHON's Jupyter and kernel
#                                        (ipywidgets 8: JupyterLab 4; ipywidgets 7, Colab's:
#                                        the classic Notebook 6); screenshots, latency
#                                        table and failure pages in DIR
#   bash .ci/browser.sh ci SIM DIR       what .ci/run does, beside its other steps: JupyterLab
#                                        with this venv, then, once the Colab simulation has
#                                        run (its setup cell installed what Colab lacks), the
#                                        classic Notebook with the simulation's venv
# Without a browser (no root, no package) the test is skipped with one line saying why.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STAGE="$1"

if [ "$STAGE" = "install" ]; then
    LOG="$2"
    if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
        echo "chromium and chromedriver already installed" > "$LOG"
        exit 0
    fi
    if { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        chromium chromium-driver; } > "$LOG" 2>&1; then
        exit 0
    fi
    echo "CI: could not install chromium and chromium-driver (log: $LOG): the browser test will be skipped" >&2
    exit 0
fi

if [ "$STAGE" = "run" ]; then
    PYTHON="$2"
    export COURSE_BROWSER_PYTHON="$PYTHON" COURSE_BROWSER_ARTIFACTS="$3"
    export TF_CPP_MIN_LOG_LEVEL=3
    cd "$ROOT"
    python -c "import selenium" 2>/dev/null || python -m pip install --quiet "selenium>=4.30,<5"
    exec python -m pytest -p no:cacheprovider -q -ra --durations=4 tests/browser
fi

if [ "$STAGE" = "ci" ]; then
    SIM="$2"
    DIR="$3"
    status=0
    echo "== JupyterLab 4, ipywidgets 8 (this venv) =="
    bash "$0" run "$(command -v python)" "$DIR/lab" || status=1
    echo "== the classic Notebook 6, ipywidgets 7.7.1 (Colab's; the Colab simulation's venv) =="
    while [ ! -f "$SIM/colab.status" ]; do sleep 5; done  # its setup cell installs what Colab lacks
    if [ "$(cat "$SIM/colab.status")" != 0 ]; then
        echo "CI: the Colab simulation failed, so its venv may lack the course's packages: not run"
        exit 1
    fi
    bash "$0" run "$SIM/venv/bin/python" "$DIR/classic" || status=1
    exit "$status"
fi

echo "usage: bash .ci/browser.sh install LOG | run PYTHON DIR | ci SIM DIR" >&2
exit 2
