/* subnet-env.c - (being written) */
