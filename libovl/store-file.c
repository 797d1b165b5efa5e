/* store-file.c - (being written) */
