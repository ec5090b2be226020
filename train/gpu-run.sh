#!/usr/bin/env bash
# One command for a GPU session (an H200 lent for ~15 minutes): checks the corpus, plans the run from a FLOP budget,
# trains the model under a wall-clock budget sized from the throughput measured in its first steps, evaluates it on
# the test split, and writes the float16 model (split into parts of at most 15 MiB), its card and the log to $OUT.
#
#   OUT=runs/gpu MEMSCOPE_DATA=runs/data train/gpu-run.sh          # on the GPU machine
#   GPU_RUN_TINY=1 OUT=/tmp/gpu-dry train/gpu-run.sh                # the same code path on CPU with a tiny model
#
# The device machine cannot reach the network: carry the prepared corpus (cp -r ~/.cache/memscope/kernel-docs
# runs/data/, about 24 MB) and name runs/data in the run's carry list. Reassemble the model with
#   cat $OUT/NAME.safetensors.part-* > NAME.safetensors
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${OUT:-runs/gpu}
PY=${PYTHON:-python3}
TINY=${GPU_RUN_TINY:-0}
START=$(date +%s)
mkdir -p "$OUT"
LOG="$OUT/train.log"
CKPT=${GPU_RUN_CHECKPOINT:-/tmp/memscope-gpu-run.pt}   # 250+ MB with Adam and memories: not in $OUT
rm -f "$CKPT"

# 1. The corpus: already prepared (carried), or prepared here by the Swift binary when there is one.
DATA=${MEMSCOPE_DATA:-${XDG_CACHE_HOME:-$HOME/.cache}/memscope}
export MEMSCOPE_DATA="$DATA"
if [ ! -f "$DATA/kernel-docs/manifest.json" ]; then
  if [ -x .build/release/memscope ]; then
    .build/release/memscope data prepare
  else
    echo "gpu-run: kernel-docs is not prepared in $DATA and there is no memscope binary to prepare it;" >&2
    echo "  copy ~/.cache/memscope/kernel-docs there (and carry it to the GPU machine)" >&2
    exit 1
  fi
fi

# 2. The model and its budget. The explorer's second model must fit 64 MiB as float16 (at most ~32M parameters):
#    12 layers of d_model 384 (6 heads of 64, d_inner 1536) is 21.3M parameters, 42.6 MB as float16, and depth
#    for the per-layer memory question. Segment 256, training memory 512, evaluation memory 1024.
if [ "$TINY" = 1 ]; then
  NAME=gpu-run-tiny
  SHAPE=(--layers 2 --d-model 64 --heads 2 --d-head 32 --d-inner 128 --segment 32 --mem 64 --batch 8)
  RUN=(--lr 2e-3 --warmup 40 --dropout 0.1 --log-every 10 --eval-every 100000 --eval-bytes 8192
       --save-every 100000 --device cpu --threads 1 --probe-steps 15 --test-bytes 16384)
  TRAIN_SECONDS=${GPU_RUN_TRAIN_SECONDS:-30}
  PEAK=200e9 MFU=0.25          # a 2-core CPU's sgemm, roughly (README: 196.5 GFLOP/s at 1024^3)
else
  NAME=kernel-docs-12l
  SHAPE=(--layers 12 --d-model 384 --heads 6 --d-head 64 --d-inner 1536 --segment 256 --mem 512 --eval-mem 1024
         --batch 64)
  RUN=(--lr 1e-3 --warmup 300 --dropout 0.1 --dropatt 0.0 --log-every 50 --eval-every 500 --eval-bytes 65536
       --save-every 100000 --device cuda --probe-steps 40)
  # 9 minutes in all: ~40 s start-up (imports, CUDA, data), ~90 s for two batch-1 passes over the 1.2 MB test split
  # (about 4,700 segments each) and the export; the rest trains.
  TRAIN_SECONDS=${GPU_RUN_TRAIN_SECONDS:-360}
  PEAK=989e12 MFU=0.25         # H200 dense bf16 (vendor figure); 0.25 is an assumption until the probe measures it
fi
NPROC=${NPROC:-1}

"$PY" - "$TRAIN_SECONDS" "$PEAK" "$MFU" "${SHAPE[@]}" <<'EOF' | tee "$LOG"
import os, sys
sys.path.insert(0, "train")
from train import parse_args, load_split
from model import TXLConfig, TransformerXL, parse_mem
seconds, peak, mfu = (float(x) for x in sys.argv[1:4])
a = parse_args(["--out", "x"] + sys.argv[4:])
mem = parse_mem(a.mem, a.layers, a.segment, a.srm)
m = TransformerXL(TXLConfig(n_layer=a.layers, n_head=a.heads, d_model=a.d_model, d_head=a.d_head, d_inner=a.d_inner,
                            tgt_len=a.segment, mem_lens=mem))
f = m.flops_per_byte(mem)
n = sum(p.numel() for p in m.parameters())
budget = seconds * peak * mfu
train_bytes = len(load_split("kernel-docs", "train")[0])
print(f"plan: {n} parameters ({2 * n / 2**20:.1f} MiB as float16); {f / 1e6:.1f} MFLOP per trained byte")
print(f"plan: FLOP budget {budget:.3g} = {seconds:.0f} s x {peak:.3g} FLOP/s x {mfu} assumed utilisation "
      f"-> {budget / f:.3g} bytes, {budget / f / train_bytes:.2f} epochs of {train_bytes} train bytes, "
      f"{budget / f / (a.batch * a.segment):.0f} steps of {a.batch} x {a.segment}")
print("plan: --time-budget replaces the assumption with the throughput measured over the probe steps")
EOF

# 3. Train (torchrun: one process per GPU), export float16 with its card, evaluate the test split.
PYTHONUNBUFFERED=1 "$PY" -m torch.distributed.run --standalone --nproc_per_node "$NPROC" train/train.py \
  --out "$CKPT" --export "$OUT/$NAME.safetensors" --export-dtype float16 --test-eval \
  --time-budget "$TRAIN_SECONDS" "${SHAPE[@]}" "${RUN[@]}" 2>&1 | tee -a "$LOG"

# 4. Parts of at most 15 MiB (the device tool returns files of up to 16 MiB), and the wall time.
if [ "$(stat -c %s "$OUT/$NAME.safetensors")" -gt $((15 * 1024 * 1024)) ]; then
  split -b 15M -d "$OUT/$NAME.safetensors" "$OUT/$NAME.safetensors.part-"
  sha256sum "$OUT/$NAME.safetensors" | tee -a "$LOG"
  rm "$OUT/$NAME.safetensors"
fi
echo "gpu-run: $(( $(date +%s) - START )) s wall in all; files in $OUT: $(ls "$OUT" | tr '\n' ' ')" | tee -a "$LOG"
