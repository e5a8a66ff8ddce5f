#!/usr/bin/env bash
# The second arithmetic setting: every notebook executed with float32 arithmetic that differs
# from the default one, so that an assert which holds for one summation order only (a
# tolerance finer than float32 can keep) fails in CI, not in a classroom:
#   - oneDNN off (TF_ENABLE_ONEDNN_OPTS=0): other convolution and matmul kernels;
#   - one thread (TF_NUM_INTRAOP_THREADS=1, and 1 for OpenMP/OpenBLAS/MKL): other reduction
#     orders, and one core's share of the machine while the other CI steps run beside it;
#   - another chunk size (COURSE_BATCH_SIZE=5; the default model picks 13): every batched
#     method (SmoothGrad, Integrated Gradients, occlusion, deletion curves) sums other chunks.
# In solution mode, whose checks include student mode's (the hands-on checks run on the
# solutions) plus the exercises'; the notebooks whose inputs change with SOLUTION also in
# student mode (STUDENT_TOO; tests/test_notebooks.py keeps the list complete).
#
#   bash .ci/arithmetic.sh DIR    clone this checkout's HEAD into DIR and run there, in the
#                                 current Python environment (committed work only)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="$1"
STUDENT_TOO=(notebooks/11_assignment.ipynb)

rm -rf "$DIR"
git clone --quiet "$ROOT" "$DIR"  # its own results/ folders: CI runs notebook 11 beside it
cd "$DIR"
export TF_ENABLE_ONEDNN_OPTS=0 TF_NUM_INTRAOP_THREADS=1 OMP_NUM_THREADS=1
export OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 COURSE_BATCH_SIZE=5 TF_CPP_MIN_LOG_LEVEL=3
unset COURSE_MODEL COURSE_FAST COURSE_ALLOW_RANDOM_WEIGHTS
status=0
COURSE_SOLUTION=1 python -m pytest -p no:cacheprovider -p tests.notebook_noise -q -ra notebooks/ \
    || status=$?
COURSE_SOLUTION=0 python -m pytest -p no:cacheprovider -p tests.notebook_noise -q -ra \
    "${STUDENT_TOO[@]}" || status=$?
echo "second arithmetic setting: exit $status"
exit "$status"
