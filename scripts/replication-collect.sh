#!/usr/bin/env bash
# Copies what a sweep has produced into the repository (docs/replication.md): results, charts, per-cell model cards
# and logs, and the claims table; never the checkpoints or the models (they stay in the sweep's folder).
# Usage: scripts/replication-collect.sh SWEEP_DIR DEST_DIR     e.g. runs/replication docs/replication/trained
set -euo pipefail
SRC=${1:?usage: scripts/replication-collect.sh SWEEP_DIR DEST_DIR}
DEST=${2:?usage: scripts/replication-collect.sh SWEEP_DIR DEST_DIR}
[ -f "$SRC/sweep.json" ] || { echo "replication-collect: $SRC has no sweep.json: not a sweep folder" >&2; exit 1; }
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$DEST/cells"
cp "$SRC/sweep.json" "$DEST/"
for f in results.json results.csv results.md "$SRC"/chart-*.svg; do
    f=$(basename "$f")
    [ -f "$SRC/$f" ] && cp "$SRC/$f" "$DEST/"
done
for f in "$SRC"/cells/*.json "$SRC"/cells/*.log; do
    [ -f "$f" ] && cp "$f" "$DEST/cells/"
done
if [ -f "$SRC/results.json" ]; then
    python3 "$HERE/replication-claims.py" "$SRC/results.json" > "$DEST/claims.md"
fi
echo "replication-collect: $(find "$DEST" -type f | wc -l) files in $DEST"
