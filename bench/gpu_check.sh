#!/usr/bin/env bash
# Everything to check on a lent GPU, in under 8 minutes, with logs under $OUT (./gpu-out when
# unset): (1) the CUDA tests, (2) fit throughput against hand-written PyTorch
# (bench_gpu_fit.py), (3) torchrun with one process per GPU against one process
# (torchrun_check.py). Without CUDA the tests skip, the benchmark runs a CPU smoke run and the
# torchrun check compares 2 gloo processes, so the script is checked on any machine.
# Fashion-MNIST is read from ./gpu-data/fashion-mnist/ when present (copy the four IDX files
# there to carry them along); otherwise the benchmark uses random images of the same shape.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-$PWD/gpu-out}"
mkdir -p "$OUT"
PYTHON="${PYTHON:-python3}"
BUDGET_S="${GPU_CHECK_BUDGET_S:-465}"  # the whole script, install included
START=$(date +%s)
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"  # this working tree's cnnkit
# No network on a lent machine: fail a dataset download at once instead of waiting on it.
export CNNKIT_DATASETS_URL="${CNNKIT_DATASETS_URL:-file://$PWD/gpu-data}"
[ -d gpu-data/fashion-mnist ] && export CNNKIT_DATA="$PWD/gpu-data"
SUMMARY="$OUT/summary.txt"
: >"$SUMMARY"

note() { echo "$*" | tee -a "$SUMMARY"; }

left() { echo $((BUDGET_S - ($(date +%s) - START))); }

# step NAME SECONDS COMMAND...: run COMMAND under a timeout (capped by the time left), log it
step() {
  local name=$1 limit=$2
  shift 2
  local remaining
  remaining=$(left)
  if [ "$remaining" -lt 20 ]; then
    note "$name: skipped (out of time)"
    return
  fi
  [ "$limit" -gt "$remaining" ] && limit=$remaining
  local began=$(date +%s)
  timeout -k 10 "$limit" "$@" >"$OUT/$name.log" 2>&1
  local rc=$?
  local verdict="ok"
  [ $rc -ne 0 ] && verdict="FAILED (exit $rc$([ $rc -eq 124 ] && echo ', timed out'))"
  note "$name: $verdict in $(($(date +%s) - began)) s; log $OUT/$name.log"
  tail -n 3 "$OUT/$name.log" 2>/dev/null | sed 's/^/    /' | tee -a "$SUMMARY" >/dev/null
}

has() { "$PYTHON" -c "import $1" >/dev/null 2>&1; }
if ! has cnnkit || ! has pytest || ! has scipy; then
  # Only when the machine lacks them: install.sh keeps a torch that is already there (a CUDA
  # build stays); pip gives up fast where there is no network.
  note "cnnkit, pytest or scipy is not importable: bash install.sh test"
  PIP_DEFAULT_TIMEOUT=5 PIP_RETRIES=0 timeout 120 bash install.sh test >"$OUT/install.log" 2>&1 ||
    note "install failed (see $OUT/install.log); going on with what is importable"
  has cnnkit || { note "cnnkit cannot be imported; stopping"; exit 1; }
fi

{
  date -u
  uptime
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>/dev/null
  "$PYTHON" -c "import torch, cnnkit; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'available', torch.cuda.is_available(), torch.cuda.device_count(), 'GPU(s)'); print('cnnkit from', cnnkit.__file__)"
} >"$OUT/environment.txt" 2>&1
cat "$OUT/environment.txt" | tee -a "$SUMMARY"

CUDA=$("$PYTHON" -c "import torch; print(int(torch.cuda.is_available()))" 2>/dev/null || echo 0)
TESTS=(tests/test_cuda.py tests/test_training_device_data.py tests/test_explain_compiled.py)
has scipy && TESTS+=(tests/test_signal.py) || note "no scipy: tests/test_signal.py left out"
if has pytest; then
  step tests 170 "$PYTHON" -m pytest -q -m cuda -p no:cacheprovider "${TESTS[@]}"
else
  note "tests: skipped, pytest is not importable"
fi
if [ "$CUDA" = 1 ]; then
  step bench_gpu_fit 220 "$PYTHON" bench/bench_gpu_fit.py --max-seconds 140 --json "$OUT/bench_gpu_fit.json"
else
  note "no CUDA: the CUDA tests skip and the benchmark is a CPU smoke run"
  step bench_gpu_fit 220 "$PYTHON" bench/bench_gpu_fit.py --device cpu --quick --json "$OUT/bench_gpu_fit.json"
fi
step torchrun_check 90 "$PYTHON" bench/torchrun_check.py --out "$OUT/torchrun"
echo
echo "summary ($(($(date +%s) - START)) s in all, $SUMMARY):"
grep -v '^    ' "$SUMMARY" | grep -E 'ok in|FAILED|skipped|stopping' || true
grep -E '^\| ' "$OUT/bench_gpu_fit.log" 2>/dev/null || true
grep -E 'equal' "$OUT/torchrun_check.log" 2>/dev/null || true
