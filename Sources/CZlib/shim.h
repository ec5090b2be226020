// zlib (Debian: zlib1g-dev): gunzip of the corpus's .rst.gz files.
#include <zlib.h>
