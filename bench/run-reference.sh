#!/usr/bin/env bash
# The PyTorch side of `make bench`: PyTorch CPU eager running the reference Transformer-XL
# computation (bench/reference_txl.py) on the benchmark model, 8 layers, d_model 256, 4 heads of
# 64, d_inner 1024, segment 128, memory 512 in every layer: eval at batch 1 and 8, training at 8.
#
# Installing torch is opt-in and never part of `make test`:
#   - if .venv-bench (repo root, git-ignored) has torch, it is used;
#   - else with MEMSCOPE_BENCH_TORCH=1 it is created: python3 -m venv .venv-bench, then
#     pip install torch safetensors numpy;
#   - else one line says how to enable the comparison, and the script exits 0.
#
# What works here (Debian 12, CPython 3.11, PyPI the only registry; found 2026-11-29):
#   - `pip install torch` from PyPI gives the CUDA build (torch 2.15.0+cu132): about 2.9 GB of
#     wheels (torch 539 MB, nvidia-cudnn 519 MB, cublas 405 MB, triton 286 MB, cusolver, cufft,
#     nccl, ...), a 5.4 GB venv, 76 s to install on this machine. It runs on the CPU as is
#     (MKL sgemm, AVX-512 kernels) and finds no GPU, which is fine.
#   - The same wheel with `pip install --no-deps torch` (no nvidia-* packages) does NOT import:
#     "OSError: libcudart.so.13: cannot open shared object file", then "ValueError:
#     libcublasLt.so.*[0-9] not found in the system path". So the nvidia packages are needed.
#   - There is no pytorch.org CPU index here. A machine whose pip has a local CPU-only wheel on
#     its find-links can use it instead: MEMSCOPE_BENCH_TORCH_SPEC='torch==2.13.0+cpu' (say).
#
# Knobs: MEMSCOPE_BENCH_THREADS (default 2), MEMSCOPE_BENCH_SECONDS (timed seconds per
# measurement, default 20), PYTHON (default python3). Extra arguments (e.g. --json) are passed
# to every reference_bench.py run.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv-bench"
py="$venv/bin/python"
threads="${MEMSCOPE_BENCH_THREADS:-2}"
seconds="${MEMSCOPE_BENCH_SECONDS:-20}"

have_torch() { [ -x "$py" ] && "$py" -c 'import torch, safetensors' >/dev/null 2>&1; }

if ! have_torch; then
  if [ "${MEMSCOPE_BENCH_TORCH:-0}" != 1 ]; then
    echo "bench: PyTorch comparison skipped (no torch in .venv-bench); run 'MEMSCOPE_BENCH_TORCH=1 make bench' to install it from PyPI (about 3 GB download, 5.4 GB on disk) and compare."
    exit 0
  fi
  echo "bench: installing torch, safetensors, numpy into $venv (PyPI; about 3 GB, a minute or more)"
  "${PYTHON:-python3}" -m venv "$venv" || { echo "bench: '${PYTHON:-python3} -m venv' failed (Debian: apt-get install python3-venv)"; exit 1; }
  # shellcheck disable=SC2086
  "$venv/bin/pip" install --quiet ${MEMSCOPE_BENCH_TORCH_SPEC:-torch} safetensors numpy
  have_torch || { echo "bench: torch was installed into $venv but does not import"; exit 1; }
fi

echo "== PyTorch CPU eager, reference computation: torch $("$py" -c 'import torch; print(torch.__version__)'), threads $threads, ${seconds} s each"
echo "   machine:$(uptime)"

# The benchmark is only meaningful if it runs the real computation: check it against the
# parity fixtures first, where they are (the Makefile exports MEMSCOPE_FIXTURES).
fixtures="${MEMSCOPE_FIXTURES:-$root/../shared/fixtures}"
if ls "$fixtures"/*.safetensors >/dev/null 2>&1; then
  "$py" "$root/bench/check_fixtures.py" "$fixtures"/*.safetensors
else
  echo "   (no parity fixtures in $fixtures: reference check skipped)"
fi

model=(--layers 8 --d-model 256 --heads 4 --d-head 64 --d-inner 1024 --segment 128 --mem 512
       --threads "$threads" --seconds "$seconds")
"$py" "$root/bench/reference_bench.py" --mode eval --batch 1 "${model[@]}" "$@"
"$py" "$root/bench/reference_bench.py" --mode eval --batch 8 "${model[@]}" "$@"
"$py" "$root/bench/reference_bench.py" --mode train --batch 8 "${model[@]}" "$@"
# The default model's configuration (Assets/models/default.json): training at its batch and memory.
small=(--layers 6 --d-model 192 --heads 3 --d-head 64 --d-inner 768 --segment 128 --mem 192
       --threads "$threads" --seconds "$seconds")
"$py" "$root/bench/reference_bench.py" --mode train --batch 16 "${small[@]}" "$@"
echo "   machine:$(uptime)"
