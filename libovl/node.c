/* node.c - (being written) */
