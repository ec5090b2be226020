#!/usr/bin/env bash
# Faults end to end (issue 8): hostile files, flags, full disks, endless inputs and signals against the real binary.
# Each case checks the exit status and that the error is one line; no case may trap (exit 132, 134 or 139).
# Usage: tests/faults.sh path/to/memscope        (about a minute on 2 cores)
set -u
BIN=${1:?usage: tests/faults.sh path/to/memscope}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODEL=$ROOT/Assets/models/default.safetensors
[ -x "$BIN" ] || { echo "faults: FAIL no binary at $BIN"; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export MEMSCOPE_DATA=$WORK/data
FAILS=0
pass() { echo "faults: PASS $*"; }
fail() { echo "faults: FAIL $*"; FAILS=$((FAILS + 1)); }

# expect NAME STATUS REGEX -- command...: exit status STATUS, stderr one line matching REGEX (ERE), within 60 s.
expect() {
    local name=$1 want=$2 regex=$3; shift 4
    timeout 60 "$@" >"$WORK/out" 2>"$WORK/err"
    local rc=$? lines
    lines=$(grep -c . "$WORK/err")
    if [ "$rc" != "$want" ]; then fail "$name: exit $rc, expected $want: $(head -c 300 "$WORK/err")"; return; fi
    if [ "$want" != 0 ] && [ "$lines" != 1 ]; then fail "$name: $lines lines on stderr: $(head -c 300 "$WORK/err")"; return; fi
    if [ -n "$regex" ] && ! grep -qE -- "$regex" "$WORK/err"; then fail "$name: message '$(head -c 300 "$WORK/err")' lacks /$regex/"; return; fi
    pass "$name"
}

# Little-endian u64, then a JSON header: a tensor whose shape product overflows Int64.
u64() { local n=$1 i; for i in 0 1 2 3 4 5 6 7; do printf "\\$(printf '%03o' $(( (n >> (8 * i)) & 255 )))"; done; }
HDR='{"evil":{"dtype":"F32","shape":[2147483648,2147483648],"data_offsets":[0,0]}}'
{ u64 ${#HDR}; printf '%s' "$HDR"; } > "$WORK/overflow.safetensors"
expect "info on an overflowing shape" 1 'too large \(its byte count overflows\)' -- "$BIN" info --model "$WORK/overflow.safetensors"
expect "eval on an overflowing shape" 1 'too large \(its byte count overflows\)' -- \
    "$BIN" eval --model "$WORK/overflow.safetensors" --text "$MODEL" --bytes 300

# Finite but huge weights: the embedding set to 1e30.
N=$(od -An -tu8 -N8 "$MODEL" | tr -d ' ')
OFF=$(head -c $((8 + N)) "$MODEL" | grep -aoE '"word_emb.emb_layers.0.weight":\{[^}]*\}' | grep -oE 'data_offsets":\[[0-9]+' | grep -oE '[0-9]+$')
cp "$MODEL" "$WORK/huge.safetensors"
head -c 3000 "$ROOT/README.md" > "$WORK/text.txt"
if [ -n "$OFF" ]; then
    printf '\xca\xf2\x49\x71%.0s' $(seq 1 65536) | dd of="$WORK/huge.safetensors" bs=1 seek=$((8 + N + OFF)) conv=notrunc status=none
    expect "eval with weights that overflow" 1 'non-finite loss in segment 0 .*first non-finite value: ' -- \
        "$BIN" eval --model "$WORK/huge.safetensors" --text "$WORK/text.txt" --json
    expect "attention with weights that overflow" 1 'non-finite' -- \
        "$BIN" attention --model "$WORK/huge.safetensors" --text "$WORK/text.txt" --layer 0 --out "$WORK/a.json"
    [ ! -e "$WORK/a.json" ] && pass "no attention JSON written" || fail "attention JSON written from non-finite values"
else
    fail "cannot find the embedding's offset in $MODEL"
fi

# Results that cannot be written are an error.
expect "info > /dev/full" 1 'cannot write the results to standard output' -- sh -c "'$BIN' info > /dev/full"
expect "eval --json > /dev/full" 1 'cannot write the results to standard output' -- \
    sh -c "'$BIN' eval --text '$WORK/text.txt' --bytes 300 --json > /dev/full"
expect "attention --out in a missing folder" 1 '^Error: --out /nonexistent/a.json: cannot write \(No such file or directory\)$' -- \
    "$BIN" attention --text "$WORK/text.txt" --layer 0 --out /nonexistent/a.json

# Endless inputs are read only as far as needed.
expect "eval --text /dev/zero --bytes 300" 0 '' -- "$BIN" eval --text /dev/zero --bytes 300

# Training flags: negative values, limits shared with the readers, an unwritable --export, the memory budget.
head -c 60000 "$MODEL" | od -An -c | tr -s ' ' > "$WORK/train.txt"
TINY=(--text "$WORK/train.txt" --layers 1 --d-model 16 --heads 2 --d-head 8 --d-inner 32 --segment 16 --batch 2
      --eval-bytes 200 --log-every 5 --eval-every 10 --save-every 5 --warmup 2)
expect "train --clamp -1 (off)" 0 '' -- "$BIN" train --out "$WORK/run.safetensors" "${TINY[@]}" --clamp -1 --steps 4
expect "train --clamp 70000" 1 'clamp_len is 70000' -- "$BIN" train --out "$WORK/r2.safetensors" "${TINY[@]}" --clamp 70000
expect "train --min-lr 5" 1 '--min-lr 5.0 must be between 0 and --lr' -- "$BIN" train --out "$WORK/r2.safetensors" "${TINY[@]}" --min-lr 5
expect "train --export in a missing folder" 1 '--export /nonexistent/m.safetensors' -- \
    "$BIN" train --out "$WORK/r2.safetensors" "${TINY[@]}" --export /nonexistent/m.safetensors
expect "train --d-model 15" 1 'd_model is 15; it must be even' -- "$BIN" train --out "$WORK/r2.safetensors" "${TINY[@]}" --d-model 15
head -c 3000000 /dev/zero | tr '\0' 'a' > "$WORK/big.txt"
expect "train beyond the memory budget" 1 'GB of working memory; the limit is' -- \
    "$BIN" train --out "$WORK/r2.safetensors" --text "$WORK/big.txt" --batch 64 --segment 1024 --mem 65536
[ ! -e "$WORK/r2.safetensors" ] && pass "no checkpoint from refused runs" || fail "a refused run wrote a checkpoint"

# --resume: contradicting flags refused by name; a temp file of a killed run removed; changeable flags applied.
expect "resume with other --batch and --layers" 1 '--layers 2 \(the checkpoint has 1\); --batch 4 \(the checkpoint has 2\)' -- \
    "$BIN" train --out "$WORK/run.safetensors" --resume --text "$WORK/train.txt" --batch 4 --layers 2
expect "resume on other data" 1 'the training data' -- "$BIN" train --out "$WORK/run.safetensors" --resume --text "$WORK/text.txt"
touch "$WORK/run.safetensors.tmp-999999999"
expect "resume with --steps 6" 0 '' -- "$BIN" train --out "$WORK/run.safetensors" --resume --text "$WORK/train.txt" --steps 6
grep -q "done: 6 steps" "$WORK/out" && pass "--steps applied on resume" || fail "--steps not applied: $(tail -1 "$WORK/out")"
[ ! -e "$WORK/run.safetensors.tmp-999999999" ] && pass "stale checkpoint temp file removed" || fail "stale temp file left"

# data prepare: SIGTERM reaches apt-get and the work folder goes; a dead process's work folder is removed at start.
mkdir -p "$WORK/bin" "$MEMSCOPE_DATA/.work-999999999"
printf '#!/bin/sh\necho $$ > %s/apt.pid\nexec sleep 30\n' "$WORK" > "$WORK/bin/apt-get"
printf '#!/bin/sh\nexit 2\n' > "$WORK/bin/dpkg-deb"
chmod +x "$WORK/bin/apt-get" "$WORK/bin/dpkg-deb"
PATH="$WORK/bin:$PATH" "$BIN" data prepare 2>"$WORK/err" &
PID=$!
for _ in $(seq 1 50); do [ -s "$WORK/apt.pid" ] && break; sleep 0.1; done
kill -TERM $PID
( sleep 20; kill -KILL $PID 2>/dev/null ) & WATCHDOG=$!   # a hang fails the case (137) instead of the run
wait $PID; rc=$?
kill $WATCHDOG 2>/dev/null
[ "$rc" = 143 ] && pass "data prepare exits 143 on SIGTERM" || fail "data prepare exit $rc on SIGTERM"
sleep 0.3
if [ -s "$WORK/apt.pid" ] && ! kill -0 "$(cat "$WORK/apt.pid")" 2>/dev/null; then pass "SIGTERM reached apt-get"
else fail "apt-get still running after SIGTERM"; kill "$(cat "$WORK/apt.pid")" 2>/dev/null; fi
left=$(ls -A "$MEMSCOPE_DATA" | grep '^\.work-' || true)
[ -z "$left" ] && pass "no work folder left" || fail "work folders left: $left"

if [ "$FAILS" -gt 0 ]; then echo "faults: $FAILS failed"; exit 1; fi
echo "faults: all passed"
