/*
 * store-file.h - what the file store's files share: store-file.c (the
 * document, its lock and the blocking operations) and file-async.c (the
 * same operations for callers that must not block).
 */
#ifndef OVL_STORE_FILE_H
#define OVL_STORE_FILE_H

#include "store/store.h"

/* With nonblocking set, an operation that needs the lock while another
 * process holds it fails with -EWOULDBLOCK instead of waiting. */
void file_store_set_nonblocking(struct ovl_store *store, int nonblocking);

/* store_ops hooks (file-async.c). */
int file_async_open(struct store_async *async);
void file_async_close(struct store_async *async);
int file_async_dispatch(struct store_async *async);
int file_async_list(struct store_async *async, store_list_done done, void *arg);
int file_async_renew(struct store_async *async, struct ovl_lease *lease,
		     unsigned int ttl_seconds, store_lease_done done, void *arg);
int file_async_acquire(struct store_async *async, const struct ovl_config *config,
		       const struct ovl_lease_request *request, store_lease_done done,
		       void *arg);

#endif
