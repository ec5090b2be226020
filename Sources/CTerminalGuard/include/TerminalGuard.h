// Restores the terminal when the explorer dies of a fatal signal (issue 8, finding 5). C, because a signal
// handler may make only async-signal-safe calls, which Swift code cannot promise.
#ifndef TERMINAL_GUARD_H
#define TERMINAL_GUARD_H

#include <stddef.h>

/// Saves the terminal mode of `tty` (tcgetattr), before curses changes it. Returns 0, or -1 if `tty` is not a
/// terminal.
int terminal_guard_save(int tty);

/// Keeps up to 255 bytes that undo the screen's modes (leave the alternate screen and mouse mode, show the
/// cursor), then handles SIGABRT, SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE and SIGQUIT: the handler writes
/// those bytes to `out`, restores the mode terminal_guard_save saved, and re-raises the signal with its
/// default action.
void terminal_guard_install(int out, const char *restore, size_t length);

/// Puts the handlers that were there before terminal_guard_install back.
void terminal_guard_uninstall(void);

#endif
