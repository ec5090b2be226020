// ncursesw with wide-character functions, and static inline wrappers for its macros and globals
// (macros do not import into Swift; mutable C globals are not concurrency-safe in Swift 6).
#define NCURSES_WIDECHAR 1
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 600
#endif
#include <locale.h>
#include <langinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <ncursesw/curses.h>

static inline WINDOW *shim_stdscr(void) { return stdscr; }
static inline FILE *shim_stdout(void) { return stdout; }
static inline FILE *shim_stdin(void) { return stdin; }
static inline int shim_colors(void) { return COLORS; }
static inline int shim_color_pairs(void) { return COLOR_PAIRS; }
static inline int shim_lines(void) { return LINES; }
static inline int shim_cols(void) { return COLS; }

static inline attr_t shim_a_normal(void) { return A_NORMAL; }
static inline attr_t shim_a_bold(void) { return A_BOLD; }
static inline attr_t shim_a_dim(void) { return A_DIM; }
static inline attr_t shim_a_reverse(void) { return A_REVERSE; }
static inline attr_t shim_a_underline(void) { return A_UNDERLINE; }

static inline int shim_key_code_yes(void) { return KEY_CODE_YES; }
static inline int shim_key_mouse(void) { return KEY_MOUSE; }
static inline int shim_key_resize(void) { return KEY_RESIZE; }
static inline int shim_key_down(void) { return KEY_DOWN; }
static inline int shim_key_up(void) { return KEY_UP; }
static inline int shim_key_left(void) { return KEY_LEFT; }
static inline int shim_key_right(void) { return KEY_RIGHT; }
static inline int shim_key_home(void) { return KEY_HOME; }
static inline int shim_key_end(void) { return KEY_END; }
static inline int shim_key_backspace(void) { return KEY_BACKSPACE; }
static inline int shim_key_f0(void) { return KEY_F0; }
static inline int shim_key_dc(void) { return KEY_DC; }
static inline int shim_key_sf(void) { return KEY_SF; }
static inline int shim_key_sr(void) { return KEY_SR; }
static inline int shim_key_npage(void) { return KEY_NPAGE; }
static inline int shim_key_ppage(void) { return KEY_PPAGE; }
static inline int shim_key_enter(void) { return KEY_ENTER; }
static inline int shim_key_btab(void) { return KEY_BTAB; }
static inline int shim_key_sleft(void) { return KEY_SLEFT; }
static inline int shim_key_sright(void) { return KEY_SRIGHT; }

static inline mmask_t shim_all_mouse_events(void) { return ALL_MOUSE_EVENTS; }
static inline mmask_t shim_button1_pressed(void) { return BUTTON1_PRESSED | BUTTON1_CLICKED; }
static inline mmask_t shim_button4_pressed(void) { return BUTTON4_PRESSED; }
static inline mmask_t shim_button5_pressed(void) {
#if NCURSES_MOUSE_VERSION > 1
    return BUTTON5_PRESSED;
#else
    return 0;
#endif
}

/// A terminfo string capability, or NULL where the terminal has none (tigetstr's (char *)-1 too).
static inline const char *shim_tigetstr(const char *name) {
    char *s = tigetstr((char *)name);
    return s == (char *)-1 ? NULL : s;
}
