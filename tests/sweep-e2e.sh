#!/usr/bin/env bash
# End to end test of `memscope sweep` with the real binary (issue 10), in seconds: a two-cell training sweep of a
# tiny model on a small text, stopped by SIGTERM in the middle of a cell (exit 143) and resumed by the same command;
# an evaluation sweep of the trained model; and the one-line errors (a placement that does not fit, another sweep's
# folder, an empty cell list item).
# Usage: tests/sweep-e2e.sh path/to/memscope
set -u
BIN=${1:?usage: tests/sweep-e2e.sh path/to/memscope}
[ -x "$BIN" ] || { echo "sweep-e2e: FAIL no binary at $BIN"; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
FAILS=0
pass() { echo "sweep-e2e: PASS $*"; }
fail() { echo "sweep-e2e: FAIL $*"; FAILS=$((FAILS + 1)); }

for i in $(seq 1 1500); do
    printf 'Line %d: the kernel schedules tasks; memory is mapped in pages of %d bytes.\n' "$i" $((i * 4096))
done > "$WORK/text.txt"
ARGS=(sweep train --out "$WORK/sweep" --text "$WORK/text.txt" --cells full/s1,last:1/s1 --lrm 32 --srm 8
      --layers 2 --d-model 32 --heads 2 --d-head 16 --d-inner 64 --segment 16 --batch 4 --steps 400 --warmup 10
      --log-every 20 --eval-every 200 --eval-bytes 512 --save-every 20 --test-bytes 4096 --threads 1)

"$BIN" "${ARGS[@]}" > "$WORK/run1.log" 2>&1 &
PID=$!
for _ in $(seq 1 300); do grep -q 'cell 2/2 last1-srm8-s1 | step' "$WORK/run1.log" && break; sleep 0.1; done
kill -TERM $PID
wait $PID
RC=$?
[ $RC -eq 143 ] && pass "SIGTERM exits 143" || fail "SIGTERM exited $RC: $(tail -2 "$WORK/run1.log")"
grep -q 'stopped at step' "$WORK/run1.log" && pass "the stopped cell saved its checkpoint" || fail "no 'stopped at step' line"
[ -f "$WORK/sweep/cells/last1-srm8-s1.train.safetensors" ] && pass "checkpoint on disk" || fail "no checkpoint"

"$BIN" "${ARGS[@]}" > "$WORK/run2.log" 2>&1
RC=$?
[ $RC -eq 0 ] && pass "the rerun finishes" || fail "the rerun exited $RC: $(tail -2 "$WORK/run2.log")"
grep -q '1 finished, 1 to run' "$WORK/run2.log" && pass "the finished cell is not redone" || fail "$(head -1 "$WORK/run2.log")"
grep -q 'resuming at step' "$WORK/run2.log" && pass "the stopped cell resumes" || fail "no 'resuming at step' line"
for f in results.json results.csv results.md chart-placements.svg chart-memory-state.svg chart-learning-curves.svg \
         cells/full-s1.safetensors cells/last1-srm8-s1.safetensors cells/last1-srm8-s1.json; do
    [ -s "$WORK/sweep/$f" ] || fail "missing $f"
done
[ "$(grep -c '"test_bpc"' "$WORK/sweep/results.json")" -eq 2 ] && pass "results.json holds 2 cells" || fail "results.json: $(cat "$WORK/sweep/results.json" | head -5)"

"$BIN" sweep eval --model "$WORK/sweep/cells/last1-srm8-s1.safetensors" --text "$WORK/text.txt" --bytes 3000 \
    --placements full,none,last:1 --lrm 32,64 --srm 8 --out "$WORK/eval" --threads 1 > "$WORK/eval.log" 2>&1
RC=$?
[ $RC -eq 0 ] && pass "sweep eval runs" || fail "sweep eval exited $RC: $(tail -2 "$WORK/eval.log")"
[ "$(grep -o '"text_sha256" : "[0-9a-f]*"' "$WORK/eval/results.json" | sort -u | wc -l)" -eq 1 ] \
    && pass "every eval cell read the same bytes" || fail "eval cells read different bytes"

check_error() {  # check_error WHAT PATTERN ARGS...
    local what=$1 pattern=$2; shift 2
    local out rc
    out=$("$BIN" "$@" 2>&1); rc=$?
    if [ $rc -ne 0 ] && [ "$(printf '%s\n' "$out" | grep -c .)" -eq 1 ] && printf '%s' "$out" | grep -q -- "$pattern"; then
        pass "$what: one line, exit $rc"
    else
        fail "$what: exit $rc: $out"
    fi
}
check_error "a placement that does not fit" "does not fit the model" "${ARGS[@]/full\/s1,last:1\/s1/last:3/s1}"
check_error "another sweep's folder" "holds another sweep: steps 400 there, 500 now" "${ARGS[@]}" --steps 500
check_error "an eval sweep into a training sweep's folder" "holds another kind of sweep" sweep eval \
    --model "$WORK/sweep/cells/full-s1.safetensors" --text "$WORK/text.txt" --out "$WORK/sweep"
check_error "an empty --cells item" "empty item" "${ARGS[@]/full\/s1,last:1\/s1/full/s1,,last:1}"

[ $FAILS -eq 0 ] && echo "sweep-e2e: all passed" || echo "sweep-e2e: $FAILS failed"
exit $((FAILS > 0))
