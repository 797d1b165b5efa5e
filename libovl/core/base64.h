/*
 * base64.h - standard base64 with padding (RFC 4648 section 4), the
 * encoding of etcd's JSON gateway for keys and values.
 */
#ifndef OVL_BASE64_H
#define OVL_BASE64_H

#include <stddef.h>

/* A new NUL-terminated string; NULL on ENOMEM. */
char *base64_encode(const void *data, size_t size);
/* A new buffer of *size bytes plus a NUL (so text comes out as a string).
 * -EINVAL on a bad character, bad padding or a length not a multiple of 4;
 * -ENOMEM. */
int base64_decode(const char *text, size_t length, char **data, size_t *size);

#endif
