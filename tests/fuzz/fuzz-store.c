/*
 * fuzz-store.c - the file store's document: written as the store file, it
 * is opened, listed, its config read, and a lease acquired in it.  Whatever
 * the library then writes must read back (a bad document is refused and
 * left as it is, never rewritten into something worse).  The store reads
 * the document with a scanner of its own (store-doc.c): what jansson with
 * JSON_REJECT_DUPLICATES refuses, it must refuse too, and the other way
 * round but for the store's own members of the wrong type.
 */
#include <string.h>
#include <jansson.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ovl_lease_request request = OVL_LEASE_REQUEST_INIT;
	static struct ovl_config *config;
	struct ovl_store *store = NULL;
	struct ovl_config *stored = NULL;
	struct ovl_lease *lease = NULL, **list = NULL;
	const char *path = fuzz_path("leases.json");
	char uri[160];
	size_t count = 0;
	int err;

	if (!config && ovl_config_parse(fuzz_ctx(), "{\"Network\":\"10.244.0.0/16\","
					"\"EnableIPv6\":true,\"IPv6Network\":\"fd00::/48\"}",
					&config) < 0)
		return 0;
	fuzz_write(path, data, size);
	snprintf(uri, sizeof(uri), "file:%s", path);
	FUZZ_ASSERT(ovl_store_open(fuzz_ctx(), uri, &store) == 0);
	err = ovl_leases(store, &list, &count);
	FUZZ_ASSERT(err == 0 || err == -EBADMSG || err == -ENOTSUP);
	ovl_leases_free(list, count);
	/* (jansson takes a raw NUL byte outside strings for nothing at all;
	 * RFC 8259 does not, nor does the store) */
	if (size && !memchr(data, '\0', size)) {
		json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);

		FUZZ_ASSERT(doc || err == -EBADMSG);
		/* and what jansson takes as an object, it refuses only for the
		 * store's own members having the wrong type */
		if (json_is_object(doc) && err == -EBADMSG)
			FUZZ_ASSERT(strstr(ovl_ctx_error(fuzz_ctx()), "\"version\"") ||
				    strstr(ovl_ctx_error(fuzz_ctx()), "\"revision\"") ||
				    strstr(ovl_ctx_error(fuzz_ctx()), "\"config\"") ||
				    strstr(ovl_ctx_error(fuzz_ctx()), "\"leases\""));
		json_decref(doc);
	}
	err = ovl_store_config_get(store, &stored);
	ovl_config_free(stored);
	request.node_name = "fuzz";
	request.public_ip = "192.168.1.1";
	request.public_ipv6 = "fd00:1::1";
	request.backend_data = "{\"VNI\":1,\"VtepMAC\":\"0e:00:00:00:00:01\"}";
	err = ovl_lease(store, config, &request, &lease);
	FUZZ_ASSERT(err == 0 || err == -EBADMSG || err == -ENOTSUP || err == -ENOSPC ||
		    err == -EINVAL || err == -EEXIST);
	ovl_lease_free(lease);
	ovl_store_close(store);
	if (err == 0) {
		/* what the library wrote reads back */
		FUZZ_ASSERT(ovl_store_open(fuzz_ctx(), uri, &store) == 0);
		FUZZ_ASSERT(ovl_leases(store, &list, &count) == 0);
		FUZZ_ASSERT(count >= 1);
		ovl_leases_free(list, count);
		ovl_store_close(store);
	}
	return 0;
}
