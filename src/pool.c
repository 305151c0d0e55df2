/*
 * pool.c - the ordered worker pool of pool.h.
 *
 * The threads live as long as the pool.  Two sets of POOL_BATCH slots take
 * turns: the workers take the messages of the batch submitted, one at a
 * time; the calling thread meanwhile hands back the batch before (its slots
 * are then free) and reads the next batch into them, then joins the
 * workers until the batch is done.  With one job there is no thread and
 * the calling thread does every step in turn.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"

/* A message copy bigger than this is freed at the end of each input. */
#define POOL_KEEP_BYTES	(4u * 1024 * 1024)

enum phase { PHASE_WORK, PHASE_FINISH };

struct pool {
	struct pool_ops ops;
	void   *ctx;
	struct pool_msg *msgs;		/* 2 * POOL_BATCH slots */
	char   *items;			/* their items, one allocation */
	pthread_t tid[POOL_THREADS];
	int	nt;			/* threads besides the caller */
	uint64_t nmsg, bytes;		/* for the progress line */

	pthread_mutex_t lock;
	pthread_cond_t work;		/* a batch was submitted, or quit */
	pthread_cond_t done;		/* the last message of it is done */
	/* the batch submitted (under lock) */
	struct pool_msg *cur;		/* NULL: none */
	size_t	n, next, ndone;
	enum phase phase;
	bool	quit;
};

/* Does one message of the submitted batch; false when none is left to
 * take (or on quit).  wait: sleep until there is one. */
static bool
step(struct pool *p, bool wait)
{
	struct pool_msg *m;
	enum phase ph;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		if (p->quit) {
			pthread_mutex_unlock(&p->lock);
			return false;
		}
		if (p->cur != NULL && p->next < p->n)
			break;
		if (!wait) {
			pthread_mutex_unlock(&p->lock);
			return false;
		}
		pthread_cond_wait(&p->work, &p->lock);
	}
	m = &p->cur[p->next++];
	ph = p->phase;
	pthread_mutex_unlock(&p->lock);

	if (ph == PHASE_WORK) {
		if (m->a == NULL)
			m->a = st_arena_new(0);
		else
			st_arena_reset(m->a);
		p->ops.work(p->ctx, m);
	} else
		p->ops.finish(p->ctx, m);

	pthread_mutex_lock(&p->lock);
	if (++p->ndone == p->n)
		pthread_cond_signal(&p->done);
	pthread_mutex_unlock(&p->lock);
	return true;
}

static void *
worker(void *arg)
{
	struct pool *p = arg;

	while (step(p, true))
		;
	return NULL;
}

static void
submit(struct pool *p, struct pool_msg *msgs, size_t n, enum phase ph)
{
	pthread_mutex_lock(&p->lock);
	p->cur = msgs;
	p->n = n;
	p->next = p->ndone = 0;
	p->phase = ph;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
}

/* The calling thread helps with the submitted batch until it is done. */
static void
help_and_wait(struct pool *p)
{
	while (step(p, false))
		;
	pthread_mutex_lock(&p->lock);
	while (p->ndone < p->n)
		pthread_cond_wait(&p->done, &p->lock);
	p->cur = NULL;
	pthread_mutex_unlock(&p->lock);
}

struct pool *
pool_new(const struct pool_ops *ops, void *ctx, int jobs)
{
	struct pool *p;
	size_t k, stride;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->ops = *ops;
	p->ctx = ctx;
	/* items are laid out one after the other, each aligned for anything */
	stride = (ops->item_size + _Alignof(max_align_t) - 1) /
	    _Alignof(max_align_t) * _Alignof(max_align_t);
	if ((p->msgs = calloc(2 * POOL_BATCH, sizeof(*p->msgs))) == NULL ||
	    (stride > 0 &&
	    (p->items = calloc(2 * POOL_BATCH, stride)) == NULL)) {
		free(p->msgs);
		free(p);
		return NULL;
	}
	for (k = 0; stride > 0 && k < 2 * POOL_BATCH; k++)
		p->msgs[k].item = p->items + k * stride;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	if (jobs > POOL_THREADS)
		jobs = POOL_THREADS;
	for (p->nt = 0; p->nt < jobs - 1; p->nt++)
		if (pthread_create(&p->tid[p->nt], NULL, worker, p) != 0)
			break;
	return p;
}

/*
 * Reads up to one batch of in into msgs (the reader's buffer is reused: a
 * copy each); *st is what stopped it: ST_OK at a full batch.  Returns the
 * count.
 */
static size_t
read_batch(struct pool *p, struct st_input *in, struct pool_msg *msgs,
    enum st_status *st)
{
	struct st_rawmsg rm;
	size_t n = 0, bytes = 0;

	*st = ST_OK;
	while (n < POOL_BATCH && bytes < p->ops.batch_bytes) {
		struct pool_msg *m = &msgs[n];

		if ((*st = st_input_next(in, &rm)) != ST_OK)
			break;
		if (rm.len > m->cap) {
			char *nd = realloc(m->data, rm.len);

			if (nd == NULL) {
				rm.error = ST_ENOMEM;
				snprintf(rm.errmsg, sizeof(rm.errmsg),
				    "out of memory");
				rm.len = 0;
			} else {
				m->data = nd;
				m->cap = rm.len;
			}
		}
		if (rm.len)
			memcpy(m->data, rm.data, rm.len);
		m->rm = rm;
		m->rm.data = m->data;
		bytes += rm.len;
		n++;
	}
	return n;
}

/* Hands back a finished batch, in input order. */
static void
hand_back(struct pool *p, struct st_input *in, struct pool_msg *msgs,
    size_t n, struct progress *prog)
{
	size_t k;

	for (k = 0; k < n; k++)
		p->ops.done(p->ctx, &msgs[k]);
	p->nmsg += n;
	progress_update(prog, p->nmsg, p->bytes + st_input_bytes_read(in));
}

int
pool_run(struct pool *p, const char *path, struct progress *prog)
{
	struct pool_msg *set[2] = { p->msgs, p->msgs + POOL_BATCH };
	size_t n[2] = { 0, 0 }, k;
	struct st_input *in;
	struct st_error err;
	enum st_status st;
	int cur = 0;

	if (st_input_open(&in, path, &err) != ST_OK) {
		cli_warn("%s", err.msg);
		return EXIT_NOINPUT;
	}
	n[cur] = read_batch(p, in, set[cur], &st);
	while (n[cur] > 0) {
		submit(p, set[cur], n[cur], PHASE_WORK);
		/* meanwhile: the batch before, then the next in its slots */
		if (n[!cur] > 0)
			hand_back(p, in, set[!cur], n[!cur], prog);
		n[!cur] = st == ST_OK ? read_batch(p, in, set[!cur], &st) : 0;
		help_and_wait(p);
		if (p->ops.between != NULL) {
			p->ops.between(p->ctx, set[cur], n[cur]);
			submit(p, set[cur], n[cur], PHASE_FINISH);
			help_and_wait(p);
		}
		cur = !cur;
	}
	if (n[!cur] > 0)
		hand_back(p, in, set[!cur], n[!cur], prog);
	p->bytes += st_input_bytes_read(in);
	/* every message is handed back before in (which their rm.path
	 * points into) is closed */
	st_input_close(in);
	if (st != ST_EOF)
		cli_warn("%s: read error", path);
	/* give the memory of big messages back between inputs */
	for (k = 0; k < 2 * POOL_BATCH; k++) {
		struct pool_msg *m = &p->msgs[k];

		if (m->cap > POOL_KEEP_BYTES) {
			free(m->data);
			m->data = NULL;
			m->cap = 0;
		}
	}
	return st == ST_EOF ? EXIT_OK : EXIT_PARTIAL;
}

void
pool_free(struct pool *p)
{
	size_t k;
	int t;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->quit = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (t = 0; t < p->nt; t++)
		pthread_join(p->tid[t], NULL);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	pthread_mutex_destroy(&p->lock);
	for (k = 0; k < 2 * POOL_BATCH; k++) {
		struct pool_msg *m = &p->msgs[k];

		if (p->ops.item_free != NULL)
			p->ops.item_free(m->item);
		if (m->a != NULL)
			st_arena_free(m->a);
		free(m->data);
	}
	free(p->items);
	free(p->msgs);
	free(p);
}
