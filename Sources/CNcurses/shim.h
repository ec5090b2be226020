// ncursesw with wide-character functions, and static inline wrappers for its macros and globals.
#define NCURSES_WIDECHAR 1
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 600
#endif
#include <locale.h>
#include <ncursesw/curses.h>
