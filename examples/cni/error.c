/*
 * error.c - the CNI error result: recorded once where a check fails, printed
 * once on stdout in the spec's format ({"cniVersion","code","msg","details"}).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cni.h"

int cni_fail(struct cni_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

void cni_error_print(const struct cni_error *err, const char *cni_version)
{
	json_t *obj = json_pack("{s:s, s:i, s:s, s:s}", "cniVersion", cni_version,
				"code", err->code, "msg", err->msg,
				"details", err->details);
	char *text = obj ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	if (text)
		printf("%s\n", text);
	else	/* out of memory: the code alone still tells the runtime */
		printf("{\"cniVersion\":\"%s\",\"code\":%d,\"msg\":\"out of memory\"}\n",
		       cni_version, err->code);
	fflush(stdout);
	free(text);
	json_decref(obj);
}
