/*
 * wireguard-key.c - WireGuard's Curve25519 keys: new private keys, public
 * keys (OpenSSL's X25519, no crypto of our own), their base64 text, and the
 * private key file flannel keeps (/run/flannel/wgkey, mode 0400, created
 * when missing so the key survives restarts).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/base64.h"
#include "core/fileio.h"
#include "link/wireguard.h"

/* A key file holds one base64 key and a newline. */
#define KEY_FILE_MAX 4096

int wg_key_from_base64(const char *text, unsigned char key[WG_KEY_LEN])
{
	char *data;
	size_t size, length;
	int err;

	if (!text)
		return -EINVAL;
	length = strlen(text);
	if (length != OVL_WIREGUARD_KEY_STRLEN - 1)
		return -EINVAL;
	err = base64_decode(text, length, &data, &size);
	if (err < 0)
		return err;
	if (size != WG_KEY_LEN)
		err = -EINVAL;
	else
		memcpy(key, data, WG_KEY_LEN);
	free(data);
	return err;
}

int wg_key_to_base64(const unsigned char key[WG_KEY_LEN], char text[OVL_WIREGUARD_KEY_STRLEN])
{
	char *encoded = base64_encode(key, WG_KEY_LEN);

	if (!encoded)
		return -ENOMEM;
	memcpy(text, encoded, OVL_WIREGUARD_KEY_STRLEN);
	free(encoded);
	return 0;
}

OVL_EXPORT int ovl_wireguard_genkey(struct ovl_ctx *ctx, char key[OVL_WIREGUARD_KEY_STRLEN])
{
	unsigned char raw[WG_KEY_LEN];
	int err;

	ctx_clear_error(ctx);
	if (!ctx || !key)
		return ctx ? ctx_fail(ctx, -EINVAL, "ovl_wireguard_genkey: NULL key") : -EINVAL;
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return ctx_fail(ctx, -EIO, "no random bytes for a key");
	/* Curve25519's clamping, as wg genkey stores it (X25519 clamps again
	 * when it uses the key, so either form gives the same public key). */
	raw[0] &= 248;
	raw[31] = (unsigned char)((raw[31] & 127) | 64);
	err = wg_key_to_base64(raw, key);
	OPENSSL_cleanse(raw, sizeof(raw));
	return err < 0 ? ctx_fail(ctx, err, "out of memory") : 0;
}

OVL_EXPORT int ovl_wireguard_pubkey(struct ovl_ctx *ctx, const char *private_key,
				    char key[OVL_WIREGUARD_KEY_STRLEN])
{
	unsigned char raw[WG_KEY_LEN], pub[WG_KEY_LEN];
	size_t size = sizeof(pub);
	EVP_PKEY *pkey;
	int err = 0;

	ctx_clear_error(ctx);
	if (!ctx || !private_key || !key)
		return ctx ? ctx_fail(ctx, -EINVAL, "ovl_wireguard_pubkey: NULL argument") : -EINVAL;
	if (wg_key_from_base64(private_key, raw) < 0)
		return ctx_fail(ctx, -EINVAL, "private key: not the base64 of 32 bytes");
	pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, raw, sizeof(raw));
	OPENSSL_cleanse(raw, sizeof(raw));
	if (!pkey || EVP_PKEY_get_raw_public_key(pkey, pub, &size) != 1 || size != sizeof(pub))
		err = ctx_fail(ctx, -EIO, "X25519: cannot derive the public key");
	else if (wg_key_to_base64(pub, key) < 0)
		err = ctx_fail(ctx, -ENOMEM, "out of memory");
	EVP_PKEY_free(pkey);
	return err;
}

/* A new key into path, mode 0400; -EEXIST when another process was first. */
static int create_key_file(struct ovl_ctx *ctx, const char *path,
			   char key[OVL_WIREGUARD_KEY_STRLEN])
{
	char dir[4096], line[OVL_WIREGUARD_KEY_STRLEN + 1];
	char *slash;
	ssize_t done;
	int fd, err;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		err = file_make_dirs(ctx, dir);
		if (err < 0)
			return err;
	}
	err = ovl_wireguard_genkey(ctx, key);
	if (err < 0)
		return err;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);
	if (fd < 0)
		return errno == EEXIST ? -EEXIST :
			ctx_fail(ctx, -errno, "%s: %s", path, ovl_strerror(errno));
	snprintf(line, sizeof(line), "%s\n", key);
	done = write(fd, line, strlen(line));
	err = done == (ssize_t)strlen(line) && fsync(fd) == 0 ? 0 : -(errno ? errno : EIO);
	close(fd);
	if (err < 0) {
		unlink(path);
		return ctx_fail(ctx, err, "%s: writing the key: %s", path, ovl_strerror(err));
	}
	return 0;
}

OVL_EXPORT int ovl_wireguard_key_load(struct ovl_ctx *ctx, const char *path,
				      char key[OVL_WIREGUARD_KEY_STRLEN])
{
	unsigned char raw[WG_KEY_LEN];
	char *data = NULL;
	size_t length = 0;
	int err;

	ctx_clear_error(ctx);
	if (!ctx || !key)
		return ctx ? ctx_fail(ctx, -EINVAL, "ovl_wireguard_key_load: NULL key") : -EINVAL;
	if (!path)
		path = OVL_WIREGUARD_KEY_FILE;
	err = file_read(ctx, path, KEY_FILE_MAX, &data, &length);
	if (err == -ENOENT) {
		ctx_clear_error(ctx);
		err = create_key_file(ctx, path, key);
		if (err != -EEXIST) {
			if (err == 0)
				ctx_log(ctx, OVL_LOG_NOTICE, "%s: new WireGuard key", path);
			return err;
		}
		err = file_read(ctx, path, KEY_FILE_MAX, &data, &length);
	}
	if (err < 0)
		return err;
	/* wg genkey's output and flannel's file end in a newline. */
	while (length && strchr(" \t\r\n", data[length - 1]))
		data[--length] = '\0';
	err = wg_key_from_base64(data, raw);
	if (err == 0)
		memcpy(key, data, OVL_WIREGUARD_KEY_STRLEN);
	OPENSSL_cleanse(data, length);
	OPENSSL_cleanse(raw, sizeof(raw));
	free(data);
	return err < 0 ? ctx_fail(ctx, -EINVAL, "%s: not a base64 WireGuard key", path) : 0;
}
