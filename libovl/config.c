/* config.c - (being written) */
