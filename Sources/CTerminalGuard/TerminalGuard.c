// Restores the terminal from a handler for fatal signals, with async-signal-safe calls only: write(2),
// tcsetattr(3), sigaction(2) and raise(3) (POSIX.1-2017, 2.4.3).
#define _XOPEN_SOURCE 700
#include "TerminalGuard.h"

#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static const int fatal[] = { SIGABRT, SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGQUIT };
#define FATAL_COUNT (sizeof fatal / sizeof fatal[0])

static struct sigaction previous[FATAL_COUNT];
static volatile sig_atomic_t installed = 0;
static struct termios saved;
static int have_saved = 0;
static int tty_fd = -1, out_fd = -1;
static char restore_bytes[256];
static size_t restore_length = 0;
// The handler runs here when the fault is a stack overflow on the installing (UI) thread.
static char alternate_stack[1 << 16];

static void restore_and_reraise(int sig) {
    size_t done = 0;
    while (done < restore_length) {
        ssize_t n = write(out_fd, restore_bytes + done, restore_length - done);
        if (n <= 0) break;
        done += (size_t)n;
    }
    if (have_saved) tcsetattr(tty_fd, TCSANOW, &saved);
    // SA_RESETHAND gave the signal its default action back and SA_NODEFER left it unblocked: this ends the
    // process as the signal would have (a core dump where the default action makes one).
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(sig, &dfl, NULL);
    raise(sig);
}

int terminal_guard_save(int tty) {
    if (tcgetattr(tty, &saved) != 0) return -1;
    tty_fd = tty;
    have_saved = 1;
    return 0;
}

void terminal_guard_install(int out, const char *restore, size_t length) {
    if (installed) terminal_guard_uninstall();
    out_fd = out;
    restore_length = length < sizeof restore_bytes ? length : sizeof restore_bytes - 1;
    memcpy(restore_bytes, restore, restore_length);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = restore_and_reraise;
    stack_t ss;
    memset(&ss, 0, sizeof ss);
    ss.ss_sp = alternate_stack;
    ss.ss_size = sizeof alternate_stack;
    sigaltstack(&ss, NULL);
    sa.sa_flags = SA_RESETHAND | SA_NODEFER | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < FATAL_COUNT; i++) sigaction(fatal[i], &sa, &previous[i]);
    installed = 1;
}

void terminal_guard_uninstall(void) {
    if (!installed) return;
    for (size_t i = 0; i < FATAL_COUNT; i++) sigaction(fatal[i], &previous[i], NULL);
    installed = 0;
}
