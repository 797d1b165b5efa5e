/*
 * test-masq.c - ovl_masq_* input checks: every bad argument is refused
 * with -EINVAL and a message naming it, before nftables is touched (so no
 * root is needed).  And the errno read from nft's failure text under a
 * translated strerror(): libnftables' run is replaced here (--wrap, see
 * Makefile.am) by one that fails with strerror()'s text in the thread's
 * locale, the way libnftables words a kernel refusal; a catalog written
 * here translates libc's messages for the C.UTF-8 locale.  The rules
 * themselves are tested in tests/netns/test-masq.sh.
 */
#include <errno.h>
#include <libintl.h>
#include <limits.h>
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "ovl.h"

struct bad_input {
	const char *network, *subnet;
	unsigned int flags;
	const char *message;
};

static const struct bad_input bad_inputs[] = {
	{ NULL, "10.244.3.0/24", 0, "network: '(null)' is not a prefix" },
	{ "10.244.0.0", "10.244.3.0/24", 0, "network: '10.244.0.0' is not a prefix" },
	{ "10.244.0.0/16", "banana", 0, "subnet: 'banana' is not a prefix" },
	{ "0.0.0.0/0", "10.244.3.0/24", 0, "network: 0.0.0.0/0 covers every address" },
	{ "10.244.0.0/16", "10.245.3.0/24", 0,
	  "subnet: 10.245.3.0/24 is not inside the network 10.244.0.0/16" },
	{ "10.244.0.0/16", "fd00::/64", 0,
	  "subnet: fd00::/64 is not of the network 10.244.0.0/16's family" },
	{ "10.244.0.0/16", "10.244.3.0/24", 0x80, "flags: unknown bits 0x80" },
};

static void test_bad_input(void)
{
	struct ovl_ctx *ctx;
	size_t i;

	CU_ASSERT_EQUAL_FATAL(ovl_ctx_new(&ctx), 0);
	for (i = 0; i < sizeof(bad_inputs) / sizeof(bad_inputs[0]); i++) {
		const struct bad_input *bad = &bad_inputs[i];

		CU_ASSERT_EQUAL(ovl_masq_apply(ctx, bad->network, bad->subnet, bad->flags),
				-EINVAL);
		CU_ASSERT_STRING_EQUAL(ovl_ctx_error(ctx), bad->message);
		CU_ASSERT_EQUAL(ovl_masq_check(ctx, bad->network, bad->subnet, bad->flags),
				-EINVAL);
		CU_ASSERT_STRING_EQUAL(ovl_ctx_error(ctx), bad->message);
	}
	ovl_ctx_free(ctx);
}

static void test_bad_family(void)
{
	struct ovl_ctx *ctx;

	CU_ASSERT_EQUAL_FATAL(ovl_ctx_new(&ctx), 0);
	CU_ASSERT_EQUAL(ovl_masq_remove(ctx, AF_UNIX), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), "family: 1 "));
	ovl_ctx_free(ctx);
}

static void test_null_ctx(void)
{
	CU_ASSERT_EQUAL(ovl_masq_apply(NULL, "10.244.0.0/16", "10.244.3.0/24", 0), -EINVAL);
	CU_ASSERT_EQUAL(ovl_masq_check(NULL, "10.244.0.0/16", "10.244.3.0/24", 0), -EINVAL);
	CU_ASSERT_EQUAL(ovl_masq_remove(NULL, 0), -EINVAL);
}

/* ---- nft failures under a translated strerror() ----------------------- */

struct nft_ctx;
int __wrap_nft_run_cmd_from_buffer(struct nft_ctx *nft, const char *buffer);
const char *__wrap_nft_ctx_get_error_buffer(struct nft_ctx *nft);

static int nft_errno;		/* what the kernel "refuses" with */
static char nft_error[256];

int __wrap_nft_run_cmd_from_buffer(struct nft_ctx *nft, const char *buffer)
{
	(void)nft;
	(void)buffer;
	snprintf(nft_error, sizeof(nft_error), "Error: Could not process rule: %s\n",
		 strerror(nft_errno));
	return -1;
}

const char *__wrap_nft_ctx_get_error_buffer(struct nft_ctx *nft)
{
	(void)nft;
	return nft_error;
}

static const char *const translations[][2] = {
	/* ASCII: LC_CTYPE stays "C", and gettext would convert to it */
	{ "", "Content-Type: text/plain; charset=UTF-8\n" },
	{ "No such file or directory", "Datei oder Verzeichnis nicht gefunden" },
	{ "Operation not permitted", "Vorgang nicht zulaessig" },
};
#define TRANSLATIONS (sizeof(translations) / sizeof(translations[0]))

/* A GNU message catalog (the .mo format msgfmt writes) of translations,
 * whose originals are sorted as the lookup without a hash table needs. */
static int write_catalog(const char *path)
{
	uint32_t header[7] = { 0x950412de, 0, TRANSLATIONS, 28, 28 + 8 * TRANSLATIONS, 0, 0 };
	uint32_t tables[2][TRANSLATIONS][2];
	uint32_t offset = 28 + 16 * TRANSLATIONS;
	FILE *file = fopen(path, "wb");
	size_t i, j;
	int failed;

	if (!file)
		return -1;
	for (j = 0; j < 2; j++)
		for (i = 0; i < TRANSLATIONS; i++) {
			tables[j][i][0] = (uint32_t)strlen(translations[i][j]);
			tables[j][i][1] = offset;
			offset += tables[j][i][0] + 1;
		}
	failed = fwrite(header, sizeof(header), 1, file) != 1 ||
		 fwrite(tables, sizeof(tables), 1, file) != 1;
	for (j = 0; j < 2; j++)
		for (i = 0; i < TRANSLATIONS; i++)
			failed |= fwrite(translations[i][j], tables[j][i][0] + 1, 1, file) != 1;
	return fclose(file) || failed ? -1 : 0;
}

static char catalog_dir[] = "/tmp/test-masq.XXXXXX";
static char libc_dir[PATH_MAX];	/* libc's catalogs before the test */

/* Translates libc's messages in this thread; 0, or -1 when this system
 * cannot (no C.UTF-8 locale). */
static int speak_german(locale_t *german, locale_t *caller)
{
	char path[PATH_MAX + 64];

	if (!mkdtemp(catalog_dir))
		return -1;
	snprintf(path, sizeof(path), "%s/C", catalog_dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/C/LC_MESSAGES", catalog_dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/C/LC_MESSAGES/libc.mo", catalog_dir);
	if (write_catalog(path) < 0)
		return -1;
	snprintf(libc_dir, sizeof(libc_dir), "%s", bindtextdomain("libc", NULL));
	bindtextdomain("libc", catalog_dir);
	/* a locale named "C" is never translated; "C.UTF-8" is looked up */
	*german = newlocale(LC_MESSAGES_MASK, "C.UTF-8", (locale_t)0);
	if (!*german)
		return -1;
	*caller = uselocale(*german);
	return 0;
}

static void speak_as_before(locale_t german, locale_t caller)
{
	char path[PATH_MAX + 64];

	if (german) {
		uselocale(caller);
		freelocale(german);
	}
	if (*libc_dir)
		bindtextdomain("libc", libc_dir);
	snprintf(path, sizeof(path), "%s/C/LC_MESSAGES/libc.mo", catalog_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/C/LC_MESSAGES", catalog_dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/C", catalog_dir);
	rmdir(path);
	rmdir(catalog_dir);
}

static void test_errno_under_locale(void)
{
	locale_t german = (locale_t)0, caller = (locale_t)0;
	struct ovl_ctx *ctx;
	int err;

	CU_ASSERT_EQUAL_FATAL(ovl_ctx_new(&ctx), 0);
	if (speak_german(&german, &caller) < 0) {
		fprintf(stderr, "test-masq: no C.UTF-8 locale, errno-under-locale test skipped\n");
		speak_as_before(german, caller);
		ovl_ctx_free(ctx);
		return;
	}
	/* the test means something only when strerror() is translated */
	CU_ASSERT_STRING_EQUAL(strerror(ENOENT), translations[1][1]);

	nft_errno = ENOENT;
	err = ovl_masq_check(ctx, "10.244.0.0/16", "10.244.3.1/24", 0);
	if (err == -EPERM && strstr(ovl_ctx_error(ctx), "needs CAP_NET_ADMIN")) {
		/* the capability probe answers before nft runs */
		fprintf(stderr, "test-masq: no CAP_NET_ADMIN, errno-under-locale test skipped\n");
	} else {
		CU_ASSERT_EQUAL(err, -ENOENT);
		CU_ASSERT_STRING_EQUAL(ovl_ctx_error(ctx), "table ip ovl-ipv4 is missing");
		nft_errno = EPERM;
		CU_ASSERT_EQUAL(ovl_masq_remove(ctx, AF_INET), -EPERM);
		CU_ASSERT_STRING_EQUAL(ovl_ctx_error(ctx), "table ip ovl-ipv4: nft: Error: "
				       "Could not process rule: Operation not permitted "
				       "(CAP_NET_ADMIN is required)");
	}
	/* and the caller's locale is back */
	CU_ASSERT_STRING_EQUAL(strerror(EPERM), translations[2][1]);
	speak_as_before(german, caller);
	ovl_ctx_free(ctx);
}

void register_tests(void)
{
	static const CU_TestInfo tests[] = {
		{ "bad network, subnet and flags", test_bad_input },
		{ "bad family for remove", test_bad_family },
		{ "NULL context", test_null_ctx },
		{ "errno from nft's text in any locale", test_errno_under_locale },
		CU_TEST_INFO_NULL,
	};

	harness_add_suite("masq", tests);
}
