#!/usr/bin/env bash
# Installs cnnkit into the active Python. `bash install.sh test` adds the test tools,
# `bash install.sh docs` the documentation tools (then `mkdocs build --strict` builds site/).
# A plain `torch` requirement would pull a multi-GB CUDA build, so where no torch is
# present we first install the CPU build 2.13.0 (it is cached on the project's machines).
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
pip_quiet() { "$PYTHON" -m pip install --quiet --disable-pip-version-check "$@"; }
if ! "$PYTHON" -c "import torch" >/dev/null 2>&1; then
  pip_quiet torch==2.13.0
fi
if [ "${1:-}" = "test" ]; then
  pip_quiet -e ".[test]"
elif [ "${1:-}" = "docs" ]; then
  pip_quiet -e ".[docs]"
else
  pip_quiet -e .
fi
