/*
 * The bounded single-producer, single-consumer queue (queue.h).  One
 * mutex and one condition variable: each side waits for the other's one
 * state change, and at most two threads ever wait, so a broadcast costs
 * nothing over a signal and cannot wake the wrong side.
 */
#include "config.h"
#include "queue.h"

void
bq_init(struct bqueue *q, size_t n)
{
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	q->n = n;
	q->head = q->tail = q->count = 0;
	q->closed = q->stopped = q->error = 0;
}

void
bq_destroy(struct bqueue *q)
{
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
}

long
bq_wait_free(struct bqueue *q)
{
	long i;

	pthread_mutex_lock(&q->mu);
	while (q->count == q->n && !q->stopped)
		pthread_cond_wait(&q->cv, &q->mu);
	i = q->stopped ? -1 : (long)q->head;
	pthread_mutex_unlock(&q->mu);
	return i;
}

void
bq_publish(struct bqueue *q)
{
	pthread_mutex_lock(&q->mu);
	q->head = (q->head + 1) % q->n;
	q->count++;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

void
bq_close(struct bqueue *q)
{
	pthread_mutex_lock(&q->mu);
	q->closed = 1;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

void
bq_wait_empty(struct bqueue *q)
{
	pthread_mutex_lock(&q->mu);
	while (q->count)
		pthread_cond_wait(&q->cv, &q->mu);
	pthread_mutex_unlock(&q->mu);
}

long
bq_wait_full(struct bqueue *q)
{
	long i;

	pthread_mutex_lock(&q->mu);
	while (q->count == 0 && !q->closed)
		pthread_cond_wait(&q->cv, &q->mu);
	i = q->count ? (long)q->tail : -1;
	pthread_mutex_unlock(&q->mu);
	return i;
}

long
bq_peek_full(struct bqueue *q)
{
	long i;

	pthread_mutex_lock(&q->mu);
	i = q->count ? (long)q->tail : -1;
	pthread_mutex_unlock(&q->mu);
	return i;
}

void
bq_release(struct bqueue *q)
{
	pthread_mutex_lock(&q->mu);
	q->tail = (q->tail + 1) % q->n;
	q->count--;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

void
bq_stop(struct bqueue *q)
{
	pthread_mutex_lock(&q->mu);
	q->stopped = 1;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

void
bq_fail(struct bqueue *q, int code)
{
	pthread_mutex_lock(&q->mu);
	if (!q->error)
		q->error = code;
	pthread_mutex_unlock(&q->mu);
}

int
bq_error(struct bqueue *q)
{
	int rc;

	pthread_mutex_lock(&q->mu);
	rc = q->error;
	pthread_mutex_unlock(&q->mu);
	return rc;
}
