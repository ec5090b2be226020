#!/usr/bin/env bash
# End-to-end test of the explorer (issue 4): runs the real binary in tmux, changes a layer's memory,
# runs an evaluation, quits, and checks the screen and that the terminal came back clean.
# Runs three times: TERM=xterm-256color, NO_COLOR=1, TERM=xterm (8 colours).
# Usage: tests/e2e.sh path/to/memscope   (E2E_MODEL=PATH and E2E_TEXT=FILE override the defaults)
set -u
BIN=${1:?usage: tests/e2e.sh path/to/memscope}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
command -v tmux >/dev/null || { echo "e2e: FAIL tmux is not installed (make deps)"; exit 1; }
[ -x "$BIN" ] || { echo "e2e: FAIL no binary at $BIN"; exit 1; }

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

run_once() {
    RUN=$1; shift
    "${TMUX_CMD[@]}" kill-session -t e2e 2>/dev/null
    "${TMUX_CMD[@]}" new-session -d -s e2e -x 100 -y 30 \
        "env XDG_CONFIG_HOME='$WORK/config' $* LANG=C.UTF-8 '$BIN' explore ${MODEL_ARGS[*]} --text '$TEXT'; echo __EXIT=\$?; sleep 120"
    if ! wait_for '1 Layers|__EXIT=' 30; then fail "the explorer did not open within 30 s"; return; fi
    if screen | grep -q '__EXIT='; then fail "the explorer exited at once: $(screen | grep -v '^$' | head -3)"; return; fi
    pass "opened"
    screen | grep -q "$EXPECT_COLOUR" && pass "status bar says $EXPECT_COLOUR" || fail "status bar does not say $EXPECT_COLOUR"
    local colours
    colours=$(screen -e | grep -cE $'\e\\[([0-9;]*;)?(3[0-7]|4[0-7]|38;5;[0-9]+|48;5;[0-9]+)[;m]')
    if [ "$EXPECT_COLOUR" = "no colour" ]; then
        [ "$colours" -eq 0 ] && pass "no colour escapes on screen" || fail "$colours lines with colour escapes under NO_COLOR"
    else
        [ "$colours" -gt 0 ] && pass "colour on screen" || fail "no colour escapes on screen"
    fi

    # Go to a segment with text before it, so memories are full, and wait for its analysis.
    keys ':' 'goto 4096' Enter
    wait_for 'bytes 4096-' 30 && pass "analysis of the segment at 4096 shown" || fail "no analysis of the segment at 4096"
    wait_for 'mem [0-9]+' 5
    local before after mem_before mem_after
    before=$(layer0); mem_before=$(screen | grep -oE 'bytes 4096-[0-9]+ . mem [0-9]+' | grep -oE '[0-9]+$')
    keys '-'
    sleep 0.5
    after=$(layer0)
    if [ -n "$before" ] && [ -n "$after" ] && [ "$after" -eq $((before / 2)) ]; then pass "L0 memory $before -> $after"
    else fail "L0 memory did not halve (before '$before', after '$after')"; fi
    wait_for "bytes 4096-[0-9]+ . mem $((before / 2))([^0-9]|$)" 10 && pass "heatmap recomputed with mem $((before / 2)) (was $mem_before)" \
        || fail "heatmap did not update to mem $((before / 2))"

    # A short evaluation: 4 KiB.
    keys ':' 'bytes 4096' Enter
    keys e
    if wait_for 'run 1: [0-9.]+ bpc|bpc [0-9]\.[0-9]{4} │' 120; then pass "evaluation finished: $(screen | grep -oE 'run 1: [0-9.]+ bpc' | head -1)"
    else fail "evaluation did not finish within 120 s"; fi
    keys 5
    wait_for '(│|[|]).{0,2} +1  L0' 5 && pass "runs table lists run 1" || fail "runs table has no run 1"

    # Quit and check the terminal is restored.
    keys q
    if wait_for '__EXIT=0' 10; then pass "quit with status 0"; else fail "did not quit cleanly: $(screen | tail -3)"; fi
    local flags
    flags=$("${TMUX_CMD[@]}" display -p -t e2e '#{alternate_on} #{mouse_any_flag} #{cursor_flag} #{keypad_flag}')
    [ "$flags" = "0 0 1 0" ] && pass "terminal restored (alternate screen off, mouse off, cursor on, keypad off)" \
        || fail "terminal not restored: alternate mouse cursor keypad = $flags"
    screen | grep -q '1 Layers' && fail "explorer screen left behind" || pass "screen cleared"
}

EXPECT_COLOUR="256 colours"; run_once "xterm-256color" TERM=xterm-256color
EXPECT_COLOUR="no colour";   run_once "NO_COLOR" TERM=xterm-256color NO_COLOR=1
EXPECT_COLOUR="8 colours";   run_once "xterm" TERM=xterm

if [ $FAILS -eq 0 ]; then echo "e2e: PASS all"; exit 0; else echo "e2e: FAIL $FAILS check(s)"; exit 1; fi
