#!/usr/bin/env bash
# `make test-torch`: the opt-in PyTorch trainer's checks. Installs nothing: it needs a virtual environment made once
# with `python3 -m venv .venv-torch && .venv-torch/bin/pip install -r train/requirements.txt` (see train/README.md).
set -euo pipefail
VENV=${1:-.venv-torch}
BIN=${2:-.build/release/memscope}
PY="$VENV/bin/python"
if [ ! -x "$PY" ] || ! "$PY" -c 'import torch, safetensors, pytest' 2>/dev/null || [ ! -x "$VENV/bin/ruff" ]; then
  echo "test-torch: no virtual environment with torch, safetensors, pytest and ruff at $VENV." >&2
  echo "  Make one: python3 -m venv $VENV && $VENV/bin/pip install -r train/requirements.txt" >&2
  echo "  (or name another: make test-torch TORCH_VENV=DIR)" >&2
  exit 1
fi
echo "== ruff format --check, ruff check (train/)"
"$VENV/bin/ruff" format --check --config train/ruff.toml train
"$VENV/bin/ruff" check --config train/ruff.toml train
echo "== pytest train/tests ($("$PY" -c 'import torch; print("torch", torch.__version__)'))"
MEMSCOPE_BIN="$BIN" OMP_NUM_THREADS=1 "$PY" -m pytest -q -p no:cacheprovider train/tests
