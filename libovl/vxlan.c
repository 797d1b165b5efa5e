/* vxlan.c - (being written) */
