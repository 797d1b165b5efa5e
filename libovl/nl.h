/* nl.h - (being written) */
