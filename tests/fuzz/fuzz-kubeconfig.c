/*
 * fuzz-kubeconfig.c - a kubeconfig, read as ovl_store_open("kube:PATH")
 * reads it (kube_store_configure on a file holding the input: libyaml, then
 * the current context's cluster and user, the files they name resolved
 * against the kubeconfig's directory, where a CA, a client certificate and
 * key and a token file exist).  It fails with a message naming the file,
 * never for lack of memory; what it accepts has an http(s) server without
 * a trailing '/', and a client key only with its certificate.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "store/kube/kube.h"

static void fixtures(void)
{
	static int done;
	static const char *const names[] = { "ca.crt", "client.crt", "client.key", "token" };
	size_t i;

	if (done)
		return;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		fuzz_write(fuzz_path(names[i]), (const uint8_t *)"x\n", 2);
	done = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kube_store *store = calloc(1, sizeof(*store));
	char path[128], uri[256];
	struct kube_client *client;
	int err;

	FUZZ_ASSERT(store);
	fixtures();
	snprintf(path, sizeof(path), "%s", fuzz_path("config"));
	fuzz_write(path, data, size);
	snprintf(uri, sizeof(uri), "kube:%s?net-config-path=%s", path, fuzz_path("none.json"));
	err = kube_store_configure(fuzz_ctx(), uri, store);
	client = &store->client;
	FUZZ_ASSERT(err <= 0 && err != -ENOMEM);
	if (err < 0) {
		FUZZ_ASSERT(strstr(ovl_ctx_error(fuzz_ctx()), path));
	} else {
		FUZZ_ASSERT(!strncmp(client->server, "https://", 8) ||
			    !strncmp(client->server, "http://", 7));
		FUZZ_ASSERT(client->server[strlen(client->server) - 1] != '/');
		FUZZ_ASSERT(!client->key_file == !client->cert_file);
		FUZZ_ASSERT(!client->key_data == !client->cert_data);
		FUZZ_ASSERT(!client->token_file || client->token);
	}
	kube_store_free(store);
	return 0;
}
