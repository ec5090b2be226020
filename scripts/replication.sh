#!/usr/bin/env bash
# The small-scale replication of Rae & Razavi (2020), trained (docs/replication.md): 14 cells of a 6-layer byte-level
# Transformer-XL on the kernel-docs corpus, one after another. Run it again to resume: finished cells are never redone,
# a stopped cell continues from its checkpoint. Ctrl-C or SIGTERM saves and exits (130 / 143).
# Usage: scripts/replication.sh            (BIN=path/to/memscope, OUT=folder; THREADS=2)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release/memscope}
OUT=${OUT:-runs/replication}
THREADS=${THREADS:-2}
# On a machine that has not run it yet, start from the cells already committed (docs/replication/trained): their
# results are kept and they are not trained again.
DONE=docs/replication/trained
if [ ! -f "$OUT/sweep.json" ] && [ -f "$DONE/sweep.json" ] && [ -f "$DONE/results.json" ]; then
    mkdir -p "$OUT/cells"
    cp "$DONE/sweep.json" "$DONE/results.json" "$OUT/"
    cp "$DONE"/cells/*.json "$DONE"/cells/*.log "$OUT/cells/" 2>/dev/null || true
    echo "replication: starting from the $(ls "$DONE"/cells/*.json | wc -l) cells committed in $DONE"
fi
# Most informative first: the full baseline, one long layer at the top, the bottom and interleaved pairs, no long layer,
# the shortest short range; then the remaining placements, second seeds and short-range lengths.
# interleaved:1 is the same arrangement as last:1 (the one long layer sits at the top), so it is not trained twice.
CELLS=full/s1,last:1/s1,first:2/s1,interleaved:2/s1,none/s1,last:1/srm16/s1,first:1/s1,last:2/s1,full/s2,last:1/s2
CELLS=$CELLS,last:1/srm32/s1,last:1/srm48/s1,interleaved:2/s2,first:2/s2
exec "$BIN" sweep train --out "$OUT" --cells "$CELLS" --lrm 256 --srm 64 \
    --layers 6 --d-model 128 --heads 2 --d-head 64 --d-inner 512 --segment 64 \
    --batch 16 --steps 6000 --lr 1.5e-3 --warmup 200 \
    --log-every 50 --eval-every 1000 --eval-bytes 32768 --save-every 200 \
    --test-bytes 262144 --threads "$THREADS"
