/* lease.c - (being written) */
