#!/usr/bin/env bash
# Retrains the shipped default model with the exact command its model card records, then measures it.
# Takes about 2 hours on a 2-core machine. A stopped run continues: run this script again (it resumes).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release/memscope}
RUN=${RUN:-runs}
mkdir -p "$RUN" Assets/models
CKPT="$RUN/default.ckpt.safetensors"
TRAIN=(train --out "$CKPT" --export "$RUN/default.safetensors"
       --layers 6 --d-model 192 --heads 3 --d-head 64 --d-inner 768
       --segment 128 --mem 192 --eval-mem 512 --batch 16 --steps 9000 --lr 1.5e-3 --warmup 200
       --log-every 50 --eval-every 500 --eval-bytes 32768 --save-every 200 --seed 1)
if [ -f "$CKPT" ]; then
  "$BIN" train --out "$CKPT" --export "$RUN/default.safetensors" --steps 9000 --resume | tee -a "$RUN/train.log"
else
  "$BIN" "${TRAIN[@]}" | tee "$RUN/train.log"
fi
scripts/model-card.sh "$RUN/default.safetensors" "${TRAIN[*]}" "$RUN/train.log"
