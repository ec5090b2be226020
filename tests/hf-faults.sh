#!/usr/bin/env bash
# Bad Hugging Face model folders against the real binary (issue 11): a missing vocab.json, a bad config field, a
# missing tensor, an unsupported attn_type. eval, info and explore each exit 1 with one line naming file and field;
# none may trap. explore runs under script(1), which gives it the terminal it asks for.
# Usage: tests/hf-faults.sh path/to/memscope        (a few seconds)
set -u
BIN=${1:?usage: tests/hf-faults.sh path/to/memscope}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FIXTURE=$ROOT/Tests/Fixtures/hf/div4-same-length
[ -x "$BIN" ] || { echo "hf-faults: FAIL no binary at $BIN"; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export MEMSCOPE_DATA=$WORK/data XDG_CONFIG_HOME=$WORK/config
FAILS=0
pass() { echo "hf-faults: PASS $*"; }
fail() { echo "hf-faults: FAIL $*"; FAILS=$((FAILS + 1)); }
printf 'w12 w55 w49 the of\nw80 , w91 .\n' > "$WORK/text.txt"

# check NAME REGEX OUTFILE RC: exit status 1, exactly one non-empty line, matching REGEX (ERE).
check() {
    local name=$1 regex=$2 out=$3 rc=$4 lines
    lines=$(grep -c . "$out")
    if [ "$rc" != 1 ]; then fail "$name: exit $rc, expected 1: $(head -c 300 "$out")"; return; fi
    if [ "$lines" != 1 ]; then fail "$name: $lines lines: $(head -c 300 "$out")"; return; fi
    if ! grep -qE -- "$regex" "$out"; then fail "$name: '$(head -c 300 "$out")' lacks /$regex/"; return; fi
    pass "$name: $(tr -d '\r' < "$out")"
}

# folder NAME: a copy of the fixture to break.
folder() { rm -rf "$WORK/$1"; cp -r "$FIXTURE" "$WORK/$1"; echo "$WORK/$1"; }

# each NAME DIR REGEX: eval, info and explore on DIR.
each() {
    local name=$1 dir=$2 regex=$3 rc
    timeout 60 "$BIN" eval --model "$dir" --text "$WORK/text.txt" >/dev/null 2>"$WORK/err"; rc=$?
    check "eval, $name" "$regex" "$WORK/err" $rc
    timeout 60 "$BIN" info --model "$dir" >/dev/null 2>"$WORK/err"; rc=$?
    check "info, $name" "$regex" "$WORK/err" $rc
    if command -v script >/dev/null; then
        # script(1) merges the child's stdout and stderr into its own output and returns the child's status.
        TERM=xterm timeout 60 script -qec "'$BIN' explore --model '$dir' --text '$WORK/text.txt'" /dev/null \
            </dev/null >"$WORK/tty" 2>&1; rc=$?
        tr -d '\r' < "$WORK/tty" > "$WORK/err"
        check "explore, $name" "$regex" "$WORK/err" $rc
    fi
}

D=$(folder novocab); rm "$D/vocab.json"
each "missing vocab.json" "$D" "vocab.json: no such file"

if command -v script >/dev/null; then  # the bare command opens the explorer too
    TERM=xterm timeout 60 script -qec "'$BIN' --model '$D' --text '$WORK/text.txt'" /dev/null </dev/null \
        >"$WORK/tty" 2>&1
    rc=$?; tr -d '\r' < "$WORK/tty" > "$WORK/err"
    check "memscope --model, missing vocab.json" "vocab.json: no such file" "$WORK/err" $rc
fi

D=$(folder badfield); sed -i 's/"n_head": 4,/"n_head": "four",/' "$D/config.json"
each "bad config field" "$D" 'config.json: .*"n_head" is not an integer'

D=$(folder attn); sed -i 's/"attn_type": 0,/"attn_type": 2,/' "$D/config.json"
each "unsupported attn_type" "$D" 'config.json: .*"attn_type" is 2; only 0'

# A tensor renamed in the header (same length, so the header stays valid): the expected name is then missing.
D=$(folder notensor)
LC_ALL=C sed -i 's/"transformer\.layers\.1\.dec_attn\.r_w_bias"/"transformer.layers.1.dec_attn.x_w_bias"/' \
    "$D/model.safetensors"
each "missing tensor" "$D" 'model\.safetensors: .*transformer\.layers\.1\.dec_attn\.r_w_bias'

# And the good folder opens: eval prints bits per token.
if timeout 60 "$BIN" eval --model "$FIXTURE" --text "$WORK/text.txt" 2>&1 | grep -q 'bits/token'; then
    pass "the fixture itself evaluates"
else
    fail "the fixture itself does not evaluate"
fi

if [ $FAILS -eq 0 ]; then echo "hf-faults: PASS all"; exit 0; else echo "hf-faults: FAIL $FAILS check(s)"; exit 1; fi
