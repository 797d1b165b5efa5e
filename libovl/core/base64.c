/*
 * base64.c - standard base64 with padding: jansson has no codec and etcd's
 * gateway carries every key and value in it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/base64.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *base64_encode(const void *data, size_t size)
{
	const unsigned char *in = data;
	char *text, *out;
	size_t i;

	if (size > (SIZE_MAX - 1) / 4 * 3 - 2)
		return NULL;
	text = malloc((size + 2) / 3 * 4 + 1);
	if (!text)
		return NULL;
	out = text;
	for (i = 0; i + 2 < size; i += 3) {
		*out++ = alphabet[in[i] >> 2];
		*out++ = alphabet[(in[i] & 0x03) << 4 | in[i + 1] >> 4];
		*out++ = alphabet[(in[i + 1] & 0x0f) << 2 | in[i + 2] >> 6];
		*out++ = alphabet[in[i + 2] & 0x3f];
	}
	if (i < size) {
		*out++ = alphabet[in[i] >> 2];
		if (i + 1 < size) {
			*out++ = alphabet[(in[i] & 0x03) << 4 | in[i + 1] >> 4];
			*out++ = alphabet[(in[i + 1] & 0x0f) << 2];
		} else {
			*out++ = alphabet[(in[i] & 0x03) << 4];
			*out++ = '=';
		}
		*out++ = '=';
	}
	*out = '\0';
	return text;
}

/* 0..63, or -1 for anything outside the alphabet (including '='). */
static int sextet(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int base64_decode(const char *text, size_t length, char **data, size_t *size)
{
	const unsigned char *in = (const unsigned char *)text;
	unsigned char *buf, *out;
	size_t i, pad = 0;

	if (length % 4)
		return -EINVAL;
	if (length && in[length - 1] == '=')
		pad = length >= 2 && in[length - 2] == '=' ? 2 : 1;
	buf = malloc(length / 4 * 3 + 1);
	if (!buf)
		return -ENOMEM;
	out = buf;
	for (i = 0; i < length; i += 4) {
		int last = i + 4 == length;
		int a = sextet(in[i]), b = sextet(in[i + 1]);
		int c = last && pad == 2 ? 0 : sextet(in[i + 2]);
		int d = last && pad ? 0 : sextet(in[i + 3]);

		if (a < 0 || b < 0 || c < 0 || d < 0)
			goto invalid;
		*out++ = (unsigned char)(a << 2 | b >> 4);
		if (last && pad == 2) {
			if (b & 0x0f)	/* non-canonical: bits that go nowhere */
				goto invalid;
			break;
		}
		*out++ = (unsigned char)((b & 0x0f) << 4 | c >> 2);
		if (last && pad == 1) {
			if (c & 0x03)
				goto invalid;
			break;
		}
		*out++ = (unsigned char)((c & 0x03) << 6 | d);
	}
	*out = '\0';
	*size = (size_t)(out - buf);
	*data = (char *)buf;
	return 0;
invalid:
	free(buf);
	return -EINVAL;
}
