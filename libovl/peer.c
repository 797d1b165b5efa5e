/* peer.c - (being written) */
