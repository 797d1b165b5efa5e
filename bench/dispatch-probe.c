/*
 * dispatch-probe.c - a host's event loop around the embedded agent, timed.
 * It embeds an ovl_node the way a program linking libovl would (public API
 * only): poll() on ovl_node_fd() with ovl_node_next_timeout_ms() as the
 * timeout, and every ovl_node_dispatch() timed with CLOCK_MONOTONIC.  The
 * driving script (bench/dispatch.sh, tests/netns/test-dispatch.sh) names
 * phases on stdin; for each phase one key=value line tells how long single
 * dispatches took (worst, p99), how often the loop woke while the fault
 * lasted, how long after the fault's end the node was healthy again (ready,
 * lease not lost, lease unexpired) and the node's status at the phase's end.
 *
 *   dispatch-probe --store URI [--config FILE] --node NAME --iface IF
 *                  --subnet-file FILE [--ttl S] [--renew-margin S] [--resync S]
 *                  [--wireguard-userspace PROGRAM] [--wireguard-key-file PATH]
 *
 * Commands on stdin, one a line, each stamped with the wall-clock time it
 * describes (`date +%s%N`): a command read late, because the loop was stuck
 * in a dispatch, still splits the samples where the script meant.
 *   phase NAME NS   ends the current phase (prints its line), starts NAME
 *   fault-end NS    this phase's fault is over: recovery counts from NS
 *   quit NS         ends the last phase, stops the node with teardown
 *   peers NS        prints "peers count=N ready=R" and a "peer ..." line for
 *                   each of ovl_node_peers (wireguard: handshake, bytes)
 *   rotate NS       ovl_node_rotate_key; prints "rotated err=E"
 * Output: "started ..." once the node runs, "recovered phase=NAME ms=R" as
 * soon as the node is healthy after a fault-end, and the phase lines.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "ovl.h"

/* A dispatch this slow is logged on stderr as it happens. */
#define SLOW_US 5000

struct sample {
	int64_t start_us;	/* CLOCK_MONOTONIC */
	int64_t duration_us;
};

struct probe {
	struct ovl_ctx *ctx;
	struct ovl_node *node;
	struct sample *samples;		/* this phase's and later ones' */
	size_t count, allocated;
	char phase[64];
	int64_t phase_start_us;
	int64_t fault_end_us;		/* 0: no fault-end in this phase */
	int64_t recovery_us;		/* fault end to healthy; -1: not yet */
	char input[512];		/* stdin's unfinished line */
	size_t input_used;
};

static int64_t clock_us(clockid_t clock)
{
	struct timespec now;

	clock_gettime(clock, &now);
	return (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

/* The monotonic time of a wall-clock stamp from the script, never later
 * than now. */
static int64_t stamp_to_monotonic(long long wall_ns)
{
	int64_t now = clock_us(CLOCK_MONOTONIC);
	int64_t ago = clock_us(CLOCK_REALTIME) - wall_ns / 1000;

	return ago > 0 ? now - ago : now;
}

static void log_line(void *userdata, int level, const char *message)
{
	struct timespec now;
	struct tm tm;

	(void)userdata;
	clock_gettime(CLOCK_REALTIME, &now);
	localtime_r(&now.tv_sec, &tm);
	fprintf(stderr, "%02d:%02d:%02d.%03ld probe %d: %s\n", tm.tm_hour, tm.tm_min,
		tm.tm_sec, now.tv_nsec / 1000000, level, message);
}

/* Ready, the lease not lost and not expired: what "recovered" means. */
static int healthy(const struct ovl_node *node, struct ovl_node_status *status)
{
	if (ovl_node_status(node, status) < 0)
		return 0;
	return status->ready && !status->lease_lost &&
	       (status->lease_expiration == 0 || status->lease_expiration > (int64_t)time(NULL));
}

static void check_recovery(struct probe *probe)
{
	struct ovl_node_status status = OVL_NODE_STATUS_INIT;
	int64_t now;

	if (!probe->fault_end_us || probe->recovery_us >= 0 || !healthy(probe->node, &status))
		return;
	now = clock_us(CLOCK_MONOTONIC);
	probe->recovery_us = now - probe->fault_end_us;
	printf("recovered phase=%s ms=%lld\n", probe->phase,
	       (long long)(probe->recovery_us / 1000));
}

static int compare_durations(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Prints the line of the phase that ends at end_us and drops its samples. */
static void phase_end(struct probe *probe, int64_t end_us)
{
	struct ovl_node_status status = OVL_NODE_STATUS_INIT;
	int64_t window_end = probe->fault_end_us ? probe->fault_end_us : end_us;
	int64_t *durations, worst = 0, p99 = 0;
	unsigned int buckets[600] = { 0 }, peak = 0;
	size_t n = 0, woken = 0, i;
	double seconds = (double)(end_us - probe->phase_start_us) / 1e6;
	double window = (double)(window_end - probe->phase_start_us) / 1e6;
	int is_healthy = healthy(probe->node, &status);

	while (n < probe->count && probe->samples[n].start_us < end_us)
		n++;
	durations = malloc((n ? n : 1) * sizeof(*durations));
	if (!durations) {
		fprintf(stderr, "dispatch-probe: out of memory\n");
		exit(1);
	}
	for (i = 0; i < n; i++) {
		const struct sample *sample = &probe->samples[i];
		int64_t second = (sample->start_us - probe->phase_start_us) / 1000000;

		durations[i] = sample->duration_us;
		if (sample->start_us >= window_end)
			continue;
		woken++;
		if (second >= 0 && second < 600 && ++buckets[second] > peak)
			peak = buckets[second];
	}
	if (n) {
		qsort(durations, n, sizeof(*durations), compare_durations);
		worst = durations[n - 1];
		p99 = durations[(n * 99 + 99) / 100 - 1];
	}
	free(durations);
	printf("phase=%s seconds=%.1f dispatches=%zu worst_ms=%.2f p99_ms=%.2f "
	       "fault_seconds=%.1f wakeups_per_s=%.1f wakeups_peak_1s=%u recovery_ms=",
	       probe->phase, seconds, n, (double)worst / 1000, (double)p99 / 1000,
	       probe->fault_end_us ? window : 0.0, window > 0 ? (double)woken / window : 0.0,
	       peak);
	if (!probe->fault_end_us)
		printf("-");
	else if (probe->recovery_us < 0)
		printf("never");
	else
		printf("%lld", (long long)(probe->recovery_us / 1000));
	printf(" ready=%d lease_lost=%d lease_left_s=%lld peers=%u healthy=%d last_error=%d error=%s\n",
	       status.ready, status.lease_lost,
	       status.lease_expiration ? (long long)(status.lease_expiration - time(NULL)) : -1LL,
	       status.peers, is_healthy, status.last_error, status.last_error_text);
	probe->count -= n;
	memmove(probe->samples, probe->samples + n, probe->count * sizeof(*probe->samples));
}

static void print_peers(struct probe *probe)
{
	struct ovl_node_status status = OVL_NODE_STATUS_INIT;
	struct ovl_peer_v2 *peers;
	size_t count, i;

	ovl_node_status(probe->node, &status);
	if (ovl_node_peers(probe->node, sizeof(*peers), &peers, &count) < 0) {
		printf("peers error=%s\n", ovl_ctx_error(probe->ctx));
		return;
	}
	printf("peers count=%zu ready=%d\n", count, status.ready);
	for (i = 0; i < count; i++)
		printf("peer subnet=%s public_ip=%s port=%u public_key=%s handshake=%lld "
		       "rx=%llu tx=%llu\n", peers[i].subnet, peers[i].public_ip ? peers[i].public_ip : "-",
		       peers[i].port, peers[i].public_key ? peers[i].public_key : "-",
		       (long long)peers[i].last_handshake, (unsigned long long)peers[i].rx_bytes,
		       (unsigned long long)peers[i].tx_bytes);
	ovl_peers_v2_free(peers, count);
}

/* One command line; returns 1 for quit. */
static int command(struct probe *probe, const char *line)
{
	char verb[32], name[64];
	long long stamp;

	if (sscanf(line, "%31s %lld", verb, &stamp) == 2 && !strcmp(verb, "peers")) {
		print_peers(probe);
		return 0;
	}
	if (sscanf(line, "%31s %lld", verb, &stamp) == 2 && !strcmp(verb, "rotate")) {
		printf("rotated err=%d\n", ovl_node_rotate_key(probe->node));
		return 0;
	}

	if (sscanf(line, "phase %63s %lld", name, &stamp) == 2) {
		int64_t start = stamp_to_monotonic(stamp);

		phase_end(probe, start);
		snprintf(probe->phase, sizeof(probe->phase), "%s", name);
		probe->phase_start_us = start;
		probe->fault_end_us = 0;
		probe->recovery_us = -1;
		return 0;
	}
	if (sscanf(line, "%31s %lld", verb, &stamp) == 2 && !strcmp(verb, "fault-end")) {
		probe->fault_end_us = stamp_to_monotonic(stamp);
		check_recovery(probe);
		return 0;
	}
	if (sscanf(line, "%31s %lld", verb, &stamp) == 2 && !strcmp(verb, "quit")) {
		phase_end(probe, stamp_to_monotonic(stamp));
		return 1;
	}
	fprintf(stderr, "dispatch-probe: unknown command '%s'\n", line);
	return 0;
}

/* Reads what stdin has; returns 1 for quit or end of input. */
static int read_commands(struct probe *probe)
{
	ssize_t got = read(STDIN_FILENO, probe->input + probe->input_used,
			   sizeof(probe->input) - 1 - probe->input_used);
	char *line, *newline;

	if (got <= 0) {
		if (got < 0 && errno == EINTR)
			return 0;
		phase_end(probe, clock_us(CLOCK_MONOTONIC));
		return 1;
	}
	probe->input_used += (size_t)got;
	probe->input[probe->input_used] = '\0';
	line = probe->input;
	while ((newline = strchr(line, '\n'))) {
		*newline = '\0';
		if (command(probe, line))
			return 1;
		line = newline + 1;
	}
	probe->input_used = strlen(line);
	memmove(probe->input, line, probe->input_used + 1);
	if (probe->input_used == sizeof(probe->input) - 1)
		probe->input_used = 0;	/* an absurd line: drop it */
	return 0;
}

/* A slow dispatch says where its time went: on the CPU, waiting in the
 * kernel (voluntary switches), or pushed off the CPU by other processes
 * (involuntary switches: a loaded machine, not the library). */
static void timed_dispatch(struct probe *probe)
{
	int64_t start = clock_us(CLOCK_MONOTONIC), cpu = clock_us(CLOCK_THREAD_CPUTIME_ID);
	struct rusage before, after;
	int64_t duration;

	getrusage(RUSAGE_THREAD, &before);
	ovl_node_dispatch(probe->node);
	duration = clock_us(CLOCK_MONOTONIC) - start;
	cpu = clock_us(CLOCK_THREAD_CPUTIME_ID) - cpu;
	getrusage(RUSAGE_THREAD, &after);
	if (duration >= SLOW_US)
		fprintf(stderr, "dispatch-probe: phase %s: one dispatch took %.1f ms (cpu %.1f ms, "
			"%ld waits in the kernel, %ld preemptions)\n", probe->phase,
			(double)duration / 1000, (double)cpu / 1000,
			after.ru_nvcsw - before.ru_nvcsw, after.ru_nivcsw - before.ru_nivcsw);
	if (probe->count == probe->allocated) {
		size_t more = probe->allocated ? probe->allocated * 2 : 4096;
		struct sample *grown = realloc(probe->samples, more * sizeof(*grown));

		if (!grown) {
			fprintf(stderr, "dispatch-probe: out of memory\n");
			exit(1);
		}
		probe->samples = grown;
		probe->allocated = more;
	}
	probe->samples[probe->count].start_us = start;
	probe->samples[probe->count].duration_us = duration;
	probe->count++;
	check_recovery(probe);
}

static int run_loop(struct probe *probe)
{
	for (;;) {
		struct pollfd fds[2] = { { ovl_node_fd(probe->node), POLLIN, 0 },
					 { STDIN_FILENO, POLLIN, 0 } };
		int ready = poll(fds, 2, ovl_node_next_timeout_ms(probe->node));

		if (ready < 0) {
			if (errno == EINTR)
				continue;
			perror("dispatch-probe: poll");
			return 1;
		}
		/* A wake-up: the fd is readable or the node's timeout ran out. */
		if (ready == 0 || fds[0].revents)
			timed_dispatch(probe);
		if (fds[1].revents && read_commands(probe))
			return 0;
	}
}

static unsigned int seconds_option(const char *text)
{
	char *end;
	unsigned long value = strtoul(text, &end, 10);

	if (*end || value > 86400) {
		fprintf(stderr, "dispatch-probe: bad number of seconds '%s'\n", text);
		exit(2);
	}
	return (unsigned int)value;
}

static int fail(struct ovl_ctx *ctx, const char *what, int err)
{
	fprintf(stderr, "dispatch-probe: %s: %s\n", what,
		*ovl_ctx_error(ctx) ? ovl_ctx_error(ctx) : ovl_strerror(err));
	return 1;
}

int main(int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "store", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' },
		{ "node", required_argument, NULL, 'n' },
		{ "iface", required_argument, NULL, 'i' },
		{ "subnet-file", required_argument, NULL, 'f' },
		{ "ttl", required_argument, NULL, 't' },
		{ "renew-margin", required_argument, NULL, 'm' },
		{ "resync", required_argument, NULL, 'r' },
		{ "wireguard-userspace", required_argument, NULL, 'w' },
		{ "wireguard-key-file", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	struct ovl_node_options options = OVL_NODE_OPTIONS_INIT;
	struct ovl_node_status status = OVL_NODE_STATUS_INIT;
	struct probe probe = { .phase = "starting", .recovery_us = -1 };
	const char *uri = NULL, *config_path = NULL;
	struct ovl_config *config = NULL;
	struct ovl_store *store = NULL;
	struct ovl_ctx *ctx;
	int64_t start;
	int option, err, result = 1;

	while ((option = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (option) {
		case 's': uri = optarg; break;
		case 'c': config_path = optarg; break;
		case 'n': options.node_name = optarg; break;
		case 'i': options.iface = optarg; break;
		case 'f': options.subnet_file = optarg; break;
		case 't': options.ttl_seconds = seconds_option(optarg); break;
		case 'm': options.renew_margin_seconds = seconds_option(optarg); break;
		case 'r': options.resync_seconds = seconds_option(optarg); break;
		case 'w': options.wireguard_userspace = optarg; break;
		case 'k': options.wireguard_key_file = optarg; break;
		default:
			fprintf(stderr, "usage: dispatch-probe --store URI [--config FILE] --node NAME "
				"--iface IF --subnet-file FILE [--ttl S] [--renew-margin S] [--resync S] "
				"[--wireguard-userspace PROGRAM] [--wireguard-key-file PATH]\n");
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (ovl_ctx_new(&ctx) < 0)
		return 1;
	probe.ctx = ctx;
	ovl_ctx_set_log(ctx, OVL_LOG_INFO, log_line, NULL);
	err = ovl_store_open(ctx, uri, &store);
	if (err < 0) {
		fail(ctx, "store", err);
		goto out;
	}
	err = config_path ? ovl_config_load(ctx, config_path, &config) :
			    ovl_store_config_get(store, &config);
	if (err < 0) {
		fail(ctx, "config", err);
		goto out;
	}
	start = clock_us(CLOCK_MONOTONIC);
	err = ovl_node_start(ctx, store, config, &options, &probe.node);
	if (err < 0) {
		fail(ctx, "node start", err);
		goto out;
	}
	probe.phase_start_us = clock_us(CLOCK_MONOTONIC);
	ovl_node_status(probe.node, &status);
	printf("started ms=%lld subnet=%s device=%s ready=%d\n",
	       (long long)((probe.phase_start_us - start) / 1000), status.subnet,
	       status.device, status.ready);
	result = run_loop(&probe);
	err = ovl_node_stop(probe.node, OVL_NODE_TEARDOWN);
	if (err < 0)
		fail(ctx, "teardown", err);
	free(probe.samples);
out:
	ovl_config_free(config);
	ovl_store_close(store);
	ovl_ctx_free(ctx);
	return result;
}
