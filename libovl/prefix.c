/* prefix.c - (being written) */
