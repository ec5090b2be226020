#!/usr/bin/env bash
# End-to-end test of the explorer (issue 4): runs the real binary in tmux, changes a layer's memory,
# runs an evaluation, quits, and checks the screen and that the terminal came back clean.
# Runs three times: TERM=xterm-256color, NO_COLOR=1, TERM=xterm (8 colours). Then the ways out that are not q:
# SIGTERM, SIGHUP and fatal signals (terminal restored, exit status), a pipe with no writer, TERM=dumb.
# Usage: tests/e2e.sh path/to/memscope   (E2E_MODEL=PATH and E2E_TEXT=FILE override the defaults)
set -u
BIN=${1:?usage: tests/e2e.sh path/to/memscope}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
command -v tmux >/dev/null || { echo "e2e: FAIL tmux is not installed (make deps)"; exit 1; }
[ -x "$BIN" ] || { echo "e2e: FAIL no binary at $BIN"; exit 1; }

ulimit -c 0   # the fatal-signal checks below must not leave core files
WORK=$(mktemp -d)
SOCK="memscope-e2e-$$"
TMUX_CMD=(tmux -L "$SOCK" -f /dev/null)
cleanup() { "${TMUX_CMD[@]}" kill-server 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

TEXT=${E2E_TEXT:-}
if [ -z "$TEXT" ]; then
    TEXT=$WORK/text.txt
    for i in $(seq 1 400); do
        printf 'Line %d: the kernel schedules tasks; memory is mapped in pages.\n\tSee also Documentation/mm.\n' "$i"
    done > "$TEXT"
fi
MODEL_ARGS=()
[ -n "${E2E_MODEL:-}" ] && MODEL_ARGS=(--model "$E2E_MODEL")

FAILS=0
pass() { echo "e2e: PASS [$RUN] $*"; }
fail() { echo "e2e: FAIL [$RUN] $*"; FAILS=$((FAILS + 1)); }
screen() { "${TMUX_CMD[@]}" capture-pane -p -t e2e "$@"; }
# wait_for REGEX SECONDS: polls the screen until it matches.
wait_for() {
    local deadline=$((SECONDS + $2))
    while [ $SECONDS -lt $deadline ]; do
        screen | grep -qE -- "$1" && return 0
        sleep 0.2
    done
    return 1
}
keys() { "${TMUX_CMD[@]}" send-keys -t e2e "$@"; }
layer0() { screen | grep -oE '^.L0 +[0-9]+' | grep -oE '[0-9]+$'; }
# start ENV TEXT [AFTER]: the explorer on TEXT in a fresh tmux session; the pane prints __EXIT=status when it
# ends, then runs AFTER (commands ending in ';').
start() {
    # MEMSCOPE_DATA: the runs the explorer saves go to the test's folder (one per $RUN), not the user's.
    local cmd="env XDG_CONFIG_HOME='$WORK/config' MEMSCOPE_DATA='$WORK/data-$RUN' $1 LANG=C.UTF-8 '$BIN' explore"
    cmd+=" ${MODEL_ARGS[*]} --text '$2';"
    "${TMUX_CMD[@]}" kill-session -t e2e 2>/dev/null
    # Killing the last session ends the server; on a loaded machine a new session can race its exit, so retry.
    local i
    for i in 1 2 3 4 5; do
        "${TMUX_CMD[@]}" new-session -d -s e2e -x 100 -y 30 "$cmd echo __EXIT=\$?; ${3:-} sleep 120" 2>/dev/null \
            && "${TMUX_CMD[@]}" has-session -t e2e 2>/dev/null && return
        sleep 0.5
    done
}
# The process ids whose parent is $1 (read from /proc, which needs no procps).
children() {
    local p
    for p in /proc/[0-9]*; do [ "$(cut -d' ' -f4 "$p/stat" 2>/dev/null)" = "$1" ] && echo "${p#/proc/}"; done
}

# Focuses the Eval pane and checks that its runs table lists run 1: pass "$1" or fail "$2".
expect_run1() {
    keys 5
    wait_for '(│|[|]).{0,3} +1 +[0-9.]+ (B|KiB|MiB) +[0-9]\.[0-9]{4}' 5 && pass "$1" || fail "$2"
}

run_once() {
    RUN=$1; shift
    start "$*" "$TEXT"
    if ! wait_for '1 Layers|__EXIT=' 30; then fail "the explorer did not open within 30 s"; return; fi
    if screen | grep -q '__EXIT='; then
        fail "the explorer exited at once: $(screen | grep -v '^$' | head -3)"; return
    fi
    pass "opened"
    # The opening screen (issue 9): a segment whose memory is full, and the newcomer hint until the first key.
    screen | grep -q '? help . :goto N . e evaluate . c compare' && pass "newcomer hint shown" \
        || fail "no newcomer hint: $(screen | tail -1)"
    if wait_for 'mem ([0-9]+) of \1([^0-9]|$)' 30; then
        pass "opens on a full memory: $(screen | grep -oE 'bytes [0-9]+-[0-9]+ . mem [0-9]+ of [0-9]+' | head -1)"
    else fail "the opening segment's memory is not full: $(screen | sed -n 3p)"; fi
    keys Escape
    if wait_for "$EXPECT_COLOUR" 5 && ! screen | grep -q ':goto N'; then pass "hint gone after a key"
    else fail "the hint stayed after a key: $(screen | tail -1)"; fi
    screen | grep -q "$EXPECT_COLOUR" && pass "status bar says $EXPECT_COLOUR" \
        || fail "status bar does not say $EXPECT_COLOUR"
    local colours
    colours=$(screen -e | grep -cE $'\e\\[([0-9;]*;)?(3[0-7]|4[0-7]|38;5;[0-9]+|48;5;[0-9]+)[;m]')
    if [ "$EXPECT_COLOUR" = "no colour" ]; then
        [ "$colours" -eq 0 ] && pass "no colour escapes on screen" \
            || fail "$colours lines with colour escapes under NO_COLOR"
    else
        [ "$colours" -gt 0 ] && pass "colour on screen" || fail "no colour escapes on screen"
    fi

    # Go to a segment with text before it, so memories are full, and wait for its analysis.
    keys ':' 'goto 4096' Enter
    wait_for 'bytes 4096-' 30 && pass "analysis of the segment at 4096 shown" \
        || fail "no analysis of the segment at 4096"
    wait_for 'mem [0-9]+' 5
    help_and_readout
    local before after mem_before mem_after
    before=$(layer0); mem_before=$(screen | grep -oE 'bytes 4096-[0-9]+ . mem [0-9]+' | grep -oE '[0-9]+$')
    keys '-'
    sleep 0.5
    after=$(layer0)
    if [ -n "$before" ] && [ -n "$after" ] && [ "$after" -eq $((before / 2)) ]; then pass "L0 memory $before -> $after"
    else fail "L0 memory did not halve (before '$before', after '$after')"; fi
    wait_for "bytes 4096-[0-9]+ . mem $((before / 2))([^0-9]|$)" 10 \
        && pass "heatmap recomputed with mem $((before / 2)) (was $mem_before)" \
        || fail "heatmap did not update to mem $((before / 2))"

    # A short evaluation: 4 KiB.
    keys ':' 'bytes 4096' Enter
    keys e
    if wait_for 'run 1: [0-9.]+ bpc|bpc [0-9]\.[0-9]{4} │' 120; then
        pass "evaluation finished: $(screen | grep -oE 'run 1: [0-9.]+ bpc' | head -1)"
    else fail "evaluation did not finish within 120 s"; fi
    expect_run1 "runs table lists run 1" "runs table has no run 1"

    ab_once
    # Quit and check the terminal is restored.
    keys q
    # A model step in flight (evaluation or A/B window) finishes before the process ends: give it time under load.
    if wait_for '__EXIT=0' 30; then pass "quit with status 0"; else fail "did not quit cleanly: $(screen | tail -3)"; fi
    local flags
    flags=$("${TMUX_CMD[@]}" display -p -t e2e '#{alternate_on} #{mouse_any_flag} #{cursor_flag} #{keypad_flag}')
    [ "$flags" = "0 0 1 0" ] && pass "terminal restored (alternate screen off, mouse off, cursor on, keypad off)" \
        || fail "terminal not restored: alternate mouse cursor keypad = $flags"
    screen | grep -q '1 Layers' && fail "explorer screen left behind" || pass "screen cleared"
}

# Help scrolls by pages and reaches the `:` commands; the heatmap's key cursor reads out a cell (issue 9).
help_and_readout() {
    keys '?'
    wait_for 'lines 1-[0-9]+ of [0-9]+' 5 && pass "help shows its first page" || fail "no help: $(screen | sed -n 2p)"
    keys NPage
    wait_for 'lines [1-9][0-9]+-[0-9]+ of' 5 \
        && pass "PgDn scrolls the help a page: $(screen | grep -oE 'lines [0-9]+-[0-9]+ of [0-9]+')" \
        || fail "PgDn did not scroll the help"
    keys G
    wait_for 'scale fixed.view.log.linear' 5 && screen | grep -q 'Mouse: click' \
        && pass "help ends with the : commands" || fail "help end not reached: $(screen | tail -4 | head -2)"
    keys Escape
    keys 2 '|'
    wait_for "key @4096 '.+' . d=[0-9]+ . p=[0-9.e-]+ . (mean|max)" 10 \
        && pass "key cursor readout: $(screen | grep -oE 'key @4096 .* (mean|max)' | head -1)" \
        || fail "no key cursor readout: $(screen | grep -E 'key|cursor' | head -2)"
    keys Escape 1
}

# The A/B comparison (issue 9): pin A, change a layer (B), see the Δ shading and the list, jump to the worst
# byte (the heatmap shows A's attention), undo. Runs inside run_once, over its 4 KiB evaluation window.
ab_once() {
    local l0
    l0=$(layer0)
    keys c
    wait_for 'A L0' 5 && pass "c pins A: $(screen | head -1 | grep -oE 'A L0.*' | cut -c1-60)" \
        || fail "no A in the header after c"
    keys ':' 'mem 0 0' Enter
    keys 4
    if wait_for 'B loses most' 240; then pass "where-memory-matters list shown"
    else fail "no where-memory-matters list within 180 s: $(screen | sed -n 2,3p)"; return; fi
    screen | head -1 | grep -qE 'B L0:0' \
        && pass "header shows B with L0 cleared" || fail "header has no B L0:0: $(screen | head -1)"
    screen | grep -q 'B better -6' && pass "Δ legend shown" || fail "no Δ legend"
    local shaded
    case "$EXPECT_COLOUR" in
        "256 colours") shaded=$(screen -e | grep -cE $'\e\\[[0-9;]*48;5;(224|217|210|203|196|160|124|195|153|117|81|39|27|19)[;m]') ;;
        "8 colours") shaded=$(screen -e | grep -cE $'\e\\[[0-9;]*4[14][;m]|\e\\[1;3[16]m|\e\\[[0-9;]*1[;m]') ;;
        *) shaded=$(screen -e | grep -cE $'\e\\[[0-9;]*[47][;m]') ;;
    esac
    [ "$shaded" -gt 0 ] && pass "text shaded by Δ ($shaded lines with Δ attributes)" || fail "no Δ shading in the text"
    local first
    first=$(screen | grep -oE '(│|[|]).? +1 +[0-9]+ +[0-9.]+ +[0-9.]+ +[-+][0-9.]+' | head -1)
    [ -n "$first" ] && pass "worst byte listed: $first" || fail "no first row in the list"
    keys w
    if wait_for '#1: byte [0-9]+' 10; then
        local at
        at=$(screen | grep -oE '#1: byte [0-9]+' | grep -oE '[0-9]+$')
        pass "w jumps to the worst byte $at"
        keys 2
        wait_for "A's (mean|max)" 60 && pass "heatmap shows A's attention at the jump" \
            || fail "heatmap does not show A's attention: $(screen | sed -n 3p)"
    else fail "w did not jump: $(screen | tail -1)"; fi
    keys u
    if wait_for 'undo: memory' 10 && [ "$(layer0)" = "$l0" ]; then pass "u undoes: L0 back to $l0"
    else fail "undo did not restore L0 $l0 (now $(layer0))"; fi
    # A change in the top layer only: B's window reruns that layer from the inputs A's window recorded.
    local top
    top=$(screen | grep -oE '^.L[0-9]+ +[0-9]+' | grep -oE 'L[0-9]+' | tr -d L | sort -n | tail -1)
    keys ':' "mem $top 0" Enter
    wait_for "layers $top-$top run, 0-$((top - 1)) reused from an earlier window" 120 \
        && pass "B reruns only the top layer: $(screen | grep -oE 'window of .* reused' | cut -c1-90)" \
        || fail "B's window did not reuse A's layers: $(screen | tail -1)"
}

# Signals (issue 8, finding 5): SIGTERM and SIGHUP end the explorer with 143 and 129, a fatal signal with
# 128 + its number, and each time the terminal comes back in its own mode (stty: echo and icanon on).
tty_ok() { # the pane's `stty -a`, printed after the explorer ended, has echo and icanon on
    local s
    s=$(screen | tr '\n' ' ')
    echo "$s" | grep -qE '(^| )echo( |$)' && echo "$s" | grep -qE '(^| )icanon( |$)' \
        && ! echo "$s" | grep -qE '(^| )-(echo|icanon)( |$)'
}
signal_once() {
    local sig=$1 status=$2
    RUN="SIG$sig"
    start "TERM=xterm-256color" "$TEXT" "stty -a;"
    if ! wait_for '1 Layers|__EXIT=' 30; then fail "the explorer did not open within 30 s"; return; fi
    local pid
    pid=$(children "$("${TMUX_CMD[@]}" display -p -t e2e '#{pane_pid}')" | head -1)
    [ -n "$pid" ] || { fail "no explorer process under the pane's shell"; return; }
    kill -s "$sig" "$pid"
    if wait_for "__EXIT=$status" 10; then pass "SIG$sig ends it with status $status"
    else fail "SIG$sig: expected status $status, got: $(screen | grep -oE '__EXIT=[0-9]+' || echo 'still running')"; fi
    wait_for 'speed|line = ' 5
    tty_ok && pass "terminal mode restored (stty: echo icanon)" \
        || fail "terminal mode not restored: $(screen | tr '\n' ' ' | grep -oE '(-?(echo|icanon|isig)) ' | tr -d '\n')"
    local flags
    flags=$("${TMUX_CMD[@]}" display -p -t e2e '#{alternate_on} #{mouse_any_flag} #{cursor_flag}')
    [ "$flags" = "0 0 1" ] && pass "alternate screen and mouse off, cursor on" \
        || fail "terminal not restored: alternate mouse cursor = $flags"
}

# A pipe with no writer (issue 8, finding 6): the explorer says it is waiting, q quits, and a writer opens it.
fifo_once() {
    RUN="FIFO"
    local fifo=$WORK/pipe
    rm -f "$fifo"; mkfifo "$fifo"
    start "TERM=xterm-256color" "$fifo"
    if wait_for 'waiting for a writer' 30; then pass "says it waits for a writer"
    else fail "no waiting message: $(screen | head -3)"; return; fi
    keys q
    wait_for '__EXIT=0' 5 && pass "q quits while waiting" || fail "q did not quit: $(screen | tail -3)"
    start "TERM=xterm-256color" "$fifo"
    wait_for 'waiting for a writer' 30
    keys C-c
    wait_for '__EXIT=130' 5 && pass "Ctrl-C quits while waiting (status 130)" \
        || fail "Ctrl-C did not quit: $(screen | tail -3)"
    start "TERM=xterm-256color" "$fifo"
    wait_for 'waiting for a writer' 30
    cat "$TEXT" > "$fifo" &
    wait_for '1 Layers' 30 && pass "opens once a writer sends the text" \
        || fail "did not open after the writer: $(screen | head -3)"
    keys q
    # Under load the first analysis may still hold the UI's first key: ask again before calling it a failure.
    wait_for '__EXIT=0' 15 || { keys q; wait_for '__EXIT=0' 30; } || fail "did not quit after reading the pipe"
}

# TERM=dumb cannot move the cursor (issue 8, finding 13): one line and a non-zero exit.
dumb_once() {
    RUN="TERM=dumb"
    start "TERM=dumb" "$TEXT"
    if wait_for '__EXIT=[1-9]' 30; then pass "refused: $(screen | grep -m1 -i 'dumb')"
    else fail "TERM=dumb was not refused: $(screen | head -3)"; fi
}

# Runs persist (issue 9): the explorer opened again on the same model and text resumes the runs of run_once; the
# chart's paper view and its SVG export (named by content, never overwriting).
resume_once() {
    RUN="xterm-256color"
    mkdir -p "$WORK/config/memscope" "$WORK/exports"
    echo "export-dir = $WORK/exports" > "$WORK/config/memscope/config"
    start "TERM=xterm-256color" "$TEXT"
    if wait_for 'resumed [0-9]+ runs? of' 30; then
        pass "runs resumed: $(screen | grep -oE 'resumed [0-9]+ runs? of [^ ]+')"
    else fail "no runs resumed: $(screen | tail -1)"; fi
    expect_run1 "runs table lists the saved run 1" "saved run 1 not in the runs table"
    keys t
    wait_for 'long-range layers of [0-9]+' 5 && pass "t shows the paper's view" || fail "no paper's view after t"
    keys x x
    if wait_for 'wrote .*runs-at0-2\.csv' 10; then pass "x twice: the second export takes -2"
    else fail "second export: $(screen | tail -1)"; fi
    ls "$WORK/exports" | grep -q 'runs-at0-chart-layers\.svg$' \
        && pass "chart SVG exported: $(ls "$WORK/exports" | grep -m1 'chart-layers')" \
        || fail "no chart SVG in $(ls "$WORK/exports" | tr '\n' ' ')"
    rm -f "$WORK/config/memscope/config"
    keys q
    wait_for '__EXIT=0' 30 && pass "quit with status 0" || fail "did not quit: $(screen | tail -3)"
}

# A/B across models (issue 10): B a second model (here a copy of A under another name, at its own memory), A the
# first at layer 0 cleared; the header names both and the where-memory-matters list shows where they differ.
cross_once() {
    RUN="cross-model"
    local a=${E2E_MODEL:-$(cd "$(dirname "$0")/.." && pwd)/Assets/models/default.safetensors}
    cp "$a" "$WORK/twin.safetensors"
    local saved=("${MODEL_ARGS[@]}")
    MODEL_ARGS=(--model "$a" --compare-model "$WORK/twin.safetensors")
    start "TERM=xterm-256color" "$TEXT"
    MODEL_ARGS=("${saved[@]}")
    if ! wait_for '1 Layers|__EXIT=' 30; then fail "the explorer did not open within 30 s"; return; fi
    keys ':' 'bytes 4096' Enter
    keys 1 0 4
    wait_for 'A [^ ]+ L0:0.* B twin ' 10 && pass "header names both models: $(screen | head -1 | cut -c1-70)" \
        || fail "header does not name A and B: $(screen | head -2 | tr '\n' ' ')"
    if wait_for 'B loses most' 240; then pass "where-memory-matters list across models shown"
    else fail "no where-memory-matters list within 240 s: $(screen | sed -n 2,3p)"; fi
    local first
    first=$(screen | grep -oE '(│|[|]).? +1 +[0-9]+ +[0-9.]+ +[0-9.]+ +[-+][0-9.]+' | head -1)
    [ -n "$first" ] && pass "worst byte listed: $first" || fail "no first row in the list"
    keys q
    wait_for '__EXIT=0' 30 && pass "quit with status 0" || fail "did not quit: $(screen | tail -3)"
    local fx
    fx=$(cd "$(dirname "$0")/.." && pwd)/../shared/fixtures/txl-uniform-mem.safetensors
    # `:compare model PATH` loads B inside a session (issue 9): the header names both; `:compare off` ends it; a
    # model of another shape is refused in one line and the session goes on.
    MODEL_ARGS=(--model "$a")
    start "TERM=xterm-256color" "$TEXT"
    MODEL_ARGS=("${saved[@]}")
    if ! wait_for '1 Layers|__EXIT=' 30; then fail "the explorer did not open within 30 s"; return; fi
    keys ':' "compare model $WORK/twin.safetensors" Enter
    wait_for 'A [^ ]+ .*B twin ' 30 && pass ":compare model: header names both: $(screen | head -1 | cut -c1-70)" \
        || fail ":compare model: header does not name B: $(screen | head -1) / $(screen | tail -1)"
    keys ':' 'compare off' Enter
    wait_for 'A unpinned' 10 && pass ":compare off ends it" || fail ":compare off: $(screen | tail -1)"
    if [ -f "$fx" ]; then
        keys ':' "compare model $fx" Enter
        wait_for 'cannot compare with .*(layers|vocabulary)' 30 \
            && pass ":compare model refuses another shape: $(screen | grep -oE 'cannot compare.*' | cut -c1-90)" \
            || fail ":compare model did not refuse another shape: $(screen | tail -1)"
    fi
    keys q
    wait_for '__EXIT=0' 30 && pass "quit with status 0" || fail "did not quit: $(screen | tail -3)"
    # A model of another shape is refused in one line, before the screen opens.
    [ -f "$fx" ] || return
    MODEL_ARGS=(--model "$a" --compare-model "$fx")
    start "TERM=xterm-256color" "$TEXT"
    MODEL_ARGS=("${saved[@]}")
    if wait_for '__EXIT=[1-9]' 30 && screen | grep -q -- '--compare-model: '; then
        pass "other shape refused: $(screen | grep -m1 -- '--compare-model: ' | cut -c1-90)"
    else fail "other shape not refused: $(screen | head -3)"; fi
}

EXPECT_COLOUR="256 colours"; run_once "xterm-256color" TERM=xterm-256color
EXPECT_COLOUR="no colour";   run_once "NO_COLOR" TERM=xterm-256color NO_COLOR=1
EXPECT_COLOUR="8 colours";   run_once "xterm" TERM=xterm
resume_once
cross_once
signal_once TERM 143
signal_once HUP 129
signal_once ABRT 134
signal_once SEGV 139
signal_once QUIT 131
fifo_once
dumb_once

# A Hugging Face word model (issue 11): positions are tokens, the text pane shows words, a memory change and an
# evaluation in bits per token. The model is the small parity fixture; the text uses its vocabulary's words.
word_once() {
    RUN="word model"
    local root saved
    root=$(cd "$(dirname "$0")/.." && pwd)
    saved="${MODEL_ARGS[*]:-}"
    MODEL_ARGS=(--model "$root/Tests/Fixtures/hf/div4-same-length")
    local i
    for i in $(seq 1 200); do
        printf 'w%d the w%d , w%d of w%d @-@ w%d .\n' $((i % 400 + 8)) $((i * 7 % 490 + 8)) $((i * 3 % 300 + 8)) \
            $((i * 11 % 450 + 8)) $((i * 5 % 470 + 8))
    done > "$WORK/words.txt"
    start "TERM=xterm-256color" "$WORK/words.txt"
    if ! wait_for '1 Layers|__EXIT=' 30; then fail "the explorer did not open within 30 s"; return; fi
    if screen | grep -q '__EXIT='; then
        fail "the explorer exited at once: $(screen | grep -v '^$' | head -3)"; return
    fi
    screen | grep -q 'tokens, pre-tokenized' && pass "title counts tokens" || fail "title: $(screen | head -1)"
    screen | grep -q '(500 words)' && pass "model named with its vocabulary" || fail "no vocabulary in the header"
    keys ':' 'goto 100' Enter
    wait_for 'tokens 96-103' 30 && pass "heatmap of the segment at token 96" || fail "no analysis at token 96"
    keys 4
    wait_for '@100/2200 "' 5 && pass "text pane cursor on a word: $(screen | grep -oE '@100/2200 "[^"]*"' | head -1)" \
        || fail "text pane has no word cursor"
    keys 1
    local before
    wait_for 'mem [0-9]+' 5
    before=$(layer0)
    keys '-'
    keys 2  # the Attention pane back as the main pane (4 made it the Text pane)
    wait_for "tokens 96-103.{1,4}mem $((before / 2))([^0-9]|$)" 20 \
        && pass "L0 memory $before -> $((before / 2)) recomputed" || fail "heatmap did not update to mem $((before / 2))"
    keys ':' 'bytes 800' Enter
    keys e
    if wait_for 'run 1: [0-9]+\.[0-9]{4} bits/token over [0-9]+ tokens' 120; then
        pass "evaluation in bits per token: $(screen | grep -oE 'run 1: [0-9.]+ bits/token' | head -1)"
    else fail "evaluation did not finish within 120 s: $(screen | tail -1)"; fi
    # The Eval pane in tokens and bits per token, never bytes or bpc (issue 9).
    keys 5
    if wait_for 'bits/token over 800 tokens from token 0' 5 && screen | grep -q ' tokens bits/tok' \
        && ! screen | grep -qE 'bpc|KiB| bytes'; then
        pass "Eval pane in tokens: $(screen | grep -oE ' # +tokens bits/tok' | head -1)"
    else fail "Eval pane units: $(screen | grep -E 'bpc|bytes|tokens' | head -2 | tr '\n' '/')"; fi
    # Another word model of the same vocabulary but 2 layers: refused in one line.
    keys ':' "compare model $root/Tests/Fixtures/hf/div1-short-memory" Enter
    wait_for 'cannot compare with .*2 layers' 30 && pass ":compare model refuses 2 layers against 3" \
        || fail ":compare model on 2 layers: $(screen | tail -1)"
    keys q
    wait_for '__EXIT=0' 30 && pass "quit with status 0" || fail "did not quit cleanly: $(screen | tail -3)"
    if [ -n "$saved" ]; then read -r -a MODEL_ARGS <<< "$saved"; else MODEL_ARGS=(); fi
}
word_once

if [ $FAILS -eq 0 ]; then echo "e2e: PASS all"; exit 0; else echo "e2e: FAIL $FAILS check(s)"; exit 1; fi
