/*
 * lease-request.c - a lease request that owns its strings, for operations
 * that outlive the call that started them (the agent's non-blocking
 * acquisitions keep the request until the store answers).
 */
#include <stdlib.h>
#include <string.h>

#include "lease/lease.h"

/* Every string member of struct ovl_lease_request, in one place so that a
 * new member cannot be copied shallowly by mistake. */
#define EACH_STRING(X) \
	X(node_name) X(public_ip) X(public_ipv6) X(backend_type) X(backend_data) \
	X(backend_v6_data) X(preferred_subnet) X(preferred_ipv6_subnet)

int lease_request_copy(struct ovl_ctx *ctx, const struct ovl_lease_request *request,
		       struct lease_request_copy *copy)
{
	int failed = 0;

	memset(copy, 0, sizeof(*copy));
	/* fields past an old caller's size read as zero: their default */
	memcpy(&copy->request, request,
	       request->size < sizeof(copy->request) ? request->size : sizeof(copy->request));
	copy->request.size = sizeof(copy->request);
#define COPY(member) \
	if (OPTIONS_HAS(request, member) && request->member && \
	    !(copy->request.member = strdup(request->member))) \
		failed = 1;
	EACH_STRING(COPY)
#undef COPY
	copy->owned = 1;
	if (failed) {
		lease_request_copy_free(copy);
		return ctx_fail(ctx, -ENOMEM, "out of memory");
	}
	return 0;
}

void lease_request_copy_free(struct lease_request_copy *copy)
{
	if (!copy->owned)
		return;
#define FREE(member) free((char *)copy->request.member);
	EACH_STRING(FREE)
#undef FREE
	memset(copy, 0, sizeof(*copy));
}
