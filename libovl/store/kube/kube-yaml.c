/*
 * kube-yaml.c - a kubeconfig's YAML as a jansson tree, through libyaml's
 * event parser: the kubeconfig reader then walks plain JSON.  Every scalar
 * stays a string (the reader decides what a field means); anchors and
 * aliases, which kubeconfigs do not use, are refused rather than expanded.
 */
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "store/kube/kube.h"

/* Nesting deeper than this is not a kubeconfig. */
#define MAX_DEPTH 64

struct builder {
	struct ovl_ctx *ctx;
	const char *what;
	json_t *stack[MAX_DEPTH];
	json_t *keys[MAX_DEPTH];	/* a mapping's pending key, as a string */
	int depth;
	json_t *root;
};

static int fail_at(struct builder *b, const yaml_mark_t *mark, const char *why)
{
	return ctx_fail(b->ctx, -EINVAL, "%s: line %zu column %zu: %s", b->what,
			mark->line + 1, mark->column + 1, why);
}

/* Puts value where the parser is: a mapping's key or value, a sequence's
 * element, or the document. Takes value. */
static int place(struct builder *b, json_t *value, const yaml_mark_t *mark)
{
	json_t *parent;
	int err = 0;

	if (!value)
		return ctx_fail(b->ctx, -ENOMEM, "%s: out of memory", b->what);
	if (!b->depth) {
		if (!b->root)
			b->root = value;
		else
			json_decref(value);
		return 0;
	}
	parent = b->stack[b->depth - 1];
	if (json_is_array(parent))
		return json_array_append_new(parent, value) ? -ENOMEM : 0;
	if (!b->keys[b->depth - 1]) {
		if (!json_is_string(value)) {
			json_decref(value);
			return fail_at(b, mark, "a mapping key must be a plain string");
		}
		b->keys[b->depth - 1] = value;
		return 0;
	}
	if (json_object_set_new(parent, json_string_value(b->keys[b->depth - 1]), value))
		err = -ENOMEM;
	json_decref(b->keys[b->depth - 1]);
	b->keys[b->depth - 1] = NULL;
	return err;
}

static json_t *scalar(const yaml_event_t *event)
{
	const char *text = (const char *)event->data.scalar.value;

	if (event->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (!*text || !strcmp(text, "~") || !strcasecmp(text, "null")))
		return json_null();
	return json_stringn(text, event->data.scalar.length);
}

static int open_collection(struct builder *b, json_t *collection, const yaml_mark_t *mark)
{
	int err;

	if (!collection)
		return ctx_fail(b->ctx, -ENOMEM, "%s: out of memory", b->what);
	if (b->depth == MAX_DEPTH) {
		json_decref(collection);
		return fail_at(b, mark, "nested too deeply");
	}
	err = place(b, json_incref(collection), mark);
	if (err < 0) {
		json_decref(collection);
		return err;
	}
	b->keys[b->depth] = NULL;
	b->stack[b->depth++] = collection;
	return 0;
}

static int on_event(struct builder *b, const yaml_event_t *event, int *done)
{
	switch (event->type) {
	case YAML_SCALAR_EVENT:
		if (event->data.scalar.anchor)
			return fail_at(b, &event->start_mark, "YAML anchors are not supported");
		return place(b, scalar(event), &event->start_mark);
	case YAML_ALIAS_EVENT:
		return fail_at(b, &event->start_mark, "YAML aliases are not supported");
	case YAML_SEQUENCE_START_EVENT:
		return open_collection(b, json_array(), &event->start_mark);
	case YAML_MAPPING_START_EVENT:
		return open_collection(b, json_object(), &event->start_mark);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		b->depth--;
		json_decref(b->keys[b->depth]);
		b->keys[b->depth] = NULL;
		json_decref(b->stack[b->depth]);
		return 0;
	case YAML_DOCUMENT_END_EVENT:
	case YAML_STREAM_END_EVENT:
		*done = 1;
		return 0;
	default:
		return 0;
	}
}

int kube_yaml_parse(struct ovl_ctx *ctx, const char *what, const char *text, size_t length,
		    json_t **out)
{
	struct builder b = { .ctx = ctx, .what = what };
	yaml_parser_t parser;
	yaml_event_t event;
	int err = 0, done = 0;

	*out = NULL;
	if (!yaml_parser_initialize(&parser))
		return ctx_fail(ctx, -ENOMEM, "%s: out of memory", what);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, length);
	while (!done && !err) {
		if (!yaml_parser_parse(&parser, &event)) {
			err = parser.error == YAML_MEMORY_ERROR ?
			      ctx_fail(ctx, -ENOMEM, "%s: out of memory", what) :
			      fail_at(&b, &parser.problem_mark, parser.problem ?
				      parser.problem : "malformed YAML");
			break;
		}
		err = on_event(&b, &event, &done);
		yaml_event_delete(&event);
	}
	yaml_parser_delete(&parser);
	while (b.depth > 0) {
		b.depth--;
		json_decref(b.keys[b.depth]);
		json_decref(b.stack[b.depth]);
	}
	if (!err && !json_is_object(b.root))
		err = ctx_fail(ctx, -EINVAL, "%s: not a YAML mapping (a kubeconfig has "
			       "clusters, users, contexts and current-context)", what);
	if (err < 0) {
		json_decref(b.root);
		return err;
	}
	*out = b.root;
	return 0;
}

int kube_yaml_bool(const char *text)
{
	static const char *const yes[] = { "true", "yes", "on", "y" };
	static const char *const no[] = { "false", "no", "off", "n" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcasecmp(text, yes[i]))
			return 1;
		if (!strcasecmp(text, no[i]))
			return 0;
	}
	return -1;
}
