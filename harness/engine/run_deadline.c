/*
 * One thread per machine stops a run still going at its deadline.
 *
 * The run registers its engine under the lock; the thread calls
 * uc_emu_stop only while one is registered and the deadline has passed,
 * so a stop never reaches a later run.  Unicorn 2.0.1 ignores a stop
 * asked for before uc_emu_start has begun emulating (it tests
 * emulation_done, still set from the last run), so the thread asks
 * again every RESTOP_NS until the run has ended.
 */
#include "run_deadline.h"
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define RESTOP_NS 1000000ull
/* A later deadline than the one the thread waits for needs no wake-up
 * (it wakes, sees the new one and waits again); an earlier one by less
 * than this is not worth a futex call per run either: a run stops at most
 * this much late.  threads_run asks for the same deadline at every
 * thread switch, give or take the rounding of remaining microseconds. */
#define EARLIER_NS 1000000ull
#define NEVER UINT64_MAX

struct run_deadline {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	uc_engine *running;	/* the engine of the run under way, or NULL */
	uint64_t deadline_ns;	/* CLOCK_MONOTONIC */
	uint64_t waits_until_ns;	/* what the thread sleeps until; NEVER: no limit */
	int stopped;		/* it stopped the run under way */
	int quit;
	pid_t pid;		/* the process the thread runs in */
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *deadline_main(void *arg)
{
	struct run_deadline *rd = arg;
	pthread_mutex_lock(&rd->lock);
	while (!rd->quit) {
		uint64_t now = now_ns();
		if (now >= rd->deadline_ns) {
			if (rd->running) {
				rd->stopped = 1;
				uc_emu_stop(rd->running);
				rd->waits_until_ns = now + RESTOP_NS;
			} else {
				rd->waits_until_ns = NEVER;	/* the next run's begin says when */
			}
		} else {
			rd->waits_until_ns = rd->deadline_ns;
		}
		if (rd->waits_until_ns == NEVER) {
			pthread_cond_wait(&rd->wake, &rd->lock);
			continue;
		}
		struct timespec until = {
			.tv_sec = (time_t)(rd->waits_until_ns / 1000000000ull),
			.tv_nsec = (long)(rd->waits_until_ns % 1000000000ull),
		};
		int waited = 0;
		while (!rd->quit && waited != ETIMEDOUT && rd->waits_until_ns != NEVER - 1)
			waited = pthread_cond_timedwait(&rd->wake, &rd->lock, &until);
	}
	pthread_mutex_unlock(&rd->lock);
	return NULL;
}

static struct run_deadline *deadline_start(void)
{
	struct run_deadline *rd = calloc(1, sizeof *rd);
	if (!rd)
		return NULL;
	rd->deadline_ns = NEVER;
	rd->waits_until_ns = NEVER;
	rd->pid = getpid();
	pthread_condattr_t ca;
	if (pthread_mutex_init(&rd->lock, NULL)) {
		free(rd);
		return NULL;
	}
	if (pthread_condattr_init(&ca) || pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) ||
	    pthread_cond_init(&rd->wake, &ca)) {
		pthread_mutex_destroy(&rd->lock);
		free(rd);
		return NULL;
	}
	pthread_condattr_destroy(&ca);
	if (pthread_create(&rd->thread, NULL, deadline_main, rd)) {
		pthread_cond_destroy(&rd->wake);
		pthread_mutex_destroy(&rd->lock);
		free(rd);
		return NULL;
	}
	return rd;
}

int run_deadline_begin(struct run_deadline **rdp, uc_engine *uc, uint64_t timeout_us)
{
	/* A forked child has the machine but not the thread (nor perhaps a
	 * usable lock): it starts its own, leaving the parent's untouched. */
	if (*rdp && (*rdp)->pid != getpid())
		*rdp = NULL;
	if (!*rdp && !(*rdp = deadline_start()))
		return -1;
	struct run_deadline *rd = *rdp;
	/* One microsecond over: the caller's own test of its deadline after
	 * the stop (now >= deadline) must hold whatever the rounding of
	 * timeout_us. */
	uint64_t now = now_ns();
	uint64_t deadline = now + timeout_us * 1000ull + 1000ull;
	pthread_mutex_lock(&rd->lock);
	rd->deadline_ns = deadline;
	rd->stopped = 0;
	rd->running = uc;
	if (deadline + EARLIER_NS < rd->waits_until_ns) {
		rd->waits_until_ns = NEVER - 1;	/* wakes the thread's timed wait */
		pthread_cond_signal(&rd->wake);
	}
	pthread_mutex_unlock(&rd->lock);
	return 0;
}

int run_deadline_end(struct run_deadline *rd)
{
	pthread_mutex_lock(&rd->lock);
	rd->running = NULL;
	int stopped = rd->stopped;
	rd->stopped = 0;
	pthread_mutex_unlock(&rd->lock);
	return stopped;
}

void run_deadline_free(struct run_deadline *rd)
{
	if (!rd || rd->pid != getpid())
		return;
	pthread_mutex_lock(&rd->lock);
	rd->quit = 1;
	pthread_cond_signal(&rd->wake);
	pthread_mutex_unlock(&rd->lock);
	pthread_join(rd->thread, NULL);
	pthread_cond_destroy(&rd->wake);
	pthread_mutex_destroy(&rd->lock);
	free(rd);
}
