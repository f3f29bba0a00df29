/*
 * exec_join.c — joins: nested loop and hash join, inner, LEFT and RIGHT; merge join, inner.
 *
 * The nested loop and hash joins read their right input completely when opened (the
 * build side) and stream the left input; the merge join streams both (see its section).
 * A joined row is the left row followed by the right row; its values are shallow copies
 * (they point into the left child's current row and the build rows), valid
 * until the next call like every row.
 *
 * Outer joins: a LEFT join emits a left row padded with NULLs when no right row matched
 * it; a RIGHT join remembers which build rows matched and, after the left input is
 * exhausted, emits every unmatched build row padded with NULLs on the left. The ON
 * condition decides matching; WHERE conditions are applied above the join (the optimizer
 * only pushes them below an outer join where that cannot change the result).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sql/exec_internal.h"

static void fill(struct sql_iter *it, const struct sql_value *left, const struct sql_value *right)
{
	uint32_t lw = it->plan->input->width, rw = it->plan->right->width;
	if (left)
		memcpy(it->joined, left, sizeof *left * lw);
	else
		for (uint32_t i = 0; i < lw; i++)
			it->joined[i] = sql_null();
	if (right)
		memcpy(it->joined + lw, right, sizeof *right * rw);
	else
		for (uint32_t i = 0; i < rw; i++)
			it->joined[lw + i] = sql_null();
}

static void join_cleanup(struct sql_iter *it)
{
	free(it->joined);
	free(it->right_matched);
	free(it->buckets);
	free(it->chain);
	if (it->probe)
		sql_values_free(it->probe, it->plan->key_count);
	free(it->probe);
}

/* Opens both children, drains the right one into it->rows. */
static err *open_sides(struct sql_iter *it)
{
	const struct sql_plan *p = it->plan;
	assert(p->input && p->right && p->width == p->input->width + p->right->width);
	it->cleanup = join_cleanup;
	it->joined = calloc(p->width + 1, sizeof *it->joined);
	if (!it->joined)
		return err_new(ERR_NOMEM, "out of memory for a join");
	TRY(sql_iter_open(it->x, p->input, it->outer, &it->input));
	TRY(sql_iter_open(it->x, p->right, it->outer, &it->right));
	sql_rows_free(&it->rows);
	sql_rows_init(&it->rows, p->right->width);
	for (;;) {
		const struct sql_value *r;
		bool done;
		TRY(sql_iter_next(it->right, &r, &done));
		if (done)
			break;
		TRY(sql_rows_push(&it->rows, r));
	}
	it->right_matched = calloc(it->rows.count + 1, sizeof *it->right_matched);
	if (!it->right_matched)
		return err_new(ERR_NOMEM, "out of memory for a join");
	return NULL;
}

/* RIGHT joins, after the left input: the unmatched build rows. */
static err *right_tail(struct sql_iter *it, const struct sql_value **row, bool *done)
{
	if (it->plan->join == SQL_JOIN_TYPE_RIGHT) {
		while (it->emitted < it->rows.count) {
			uint64_t r = it->emitted++;
			if (!it->right_matched[r]) {
				fill(it, NULL, sql_rows_at(&it->rows, r));
				*row = it->joined;
				return NULL;
			}
		}
	}
	*done = true;
	return NULL;
}

/* Tests the ON (or residual) condition on it->joined. */
static err *matches(struct sql_iter *it, bool *ok)
{
	*ok = true;
	if (!it->plan->predicate)
		return NULL;
	struct sql_eval_ctx ctx = sql__ctx(it, it->joined, it->plan->width);
	return sql_bexpr_truth(it->plan->predicate, &ctx, ok);
}

/* Finishes the current left row; emits it NULL-padded for an unmatched LEFT join row. */
static bool left_finished(struct sql_iter *it, const struct sql_value **row)
{
	bool emit = it->plan->join == SQL_JOIN_TYPE_LEFT && !it->left_matched;
	if (emit) {
		fill(it, it->left, NULL);
		*row = it->joined;
	}
	it->left = NULL;
	return emit;
}

/* ---- nested loop ---- */

static err *nested_next(struct sql_iter *it, const struct sql_value **row, bool *done)
{
	for (;;) {
		if (it->left_done)
			return right_tail(it, row, done);
		if (!it->left) {
			bool end;
			TRY(sql_iter_next(it->input, &it->left, &end));
			if (end) {
				it->left = NULL;
				it->left_done = true;
				continue;
			}
			it->left_matched = false;
			it->pos = 0;
		}
		while (it->pos < it->rows.count) {
			uint64_t r = it->pos++;
			TRY(sql__exec_work(it->x));
			fill(it, it->left, sql_rows_at(&it->rows, r));
			bool ok;
			TRY(matches(it, &ok));
			if (ok) {
				it->left_matched = true;
				it->right_matched[r] = true;
				*row = it->joined;
				return NULL;
			}
		}
		if (left_finished(it, row))
			return NULL;
	}
}

err *sql__join_open(struct sql_iter *it)
{
	it->next = nested_next;
	return open_sides(it);
}

/* ---- hash join ---- */

/* The key values of build row r. */
static const struct sql_value *build_key(const struct sql_iter *it, uint64_t r)
{
	return it->key_column >= 0 ? &sql_rows_at(&it->rows, r)[it->key_column]
	                           : sql_rows_at(&it->keys, r);
}

static err *build_hash(struct sql_iter *it)
{
	const struct sql_plan *p = it->plan;
	uint64_t n = it->rows.count;
	_Static_assert(SQL_EXEC_MAX_ROWS < UINT32_MAX, "row numbers fit the 32-bit chains");
	assert(n <= SQL_EXEC_MAX_ROWS);
	uint64_t buckets = 16;
	while (buckets < n)
		buckets *= 2;
	it->bucket_count = buckets;
	it->buckets = calloc(buckets, sizeof *it->buckets);
	it->chain = calloc(n + 1, sizeof *it->chain);
	it->probe = calloc(p->key_count + 1, sizeof *it->probe);
	struct sql_value *k = calloc(p->key_count + 1, sizeof *k);
	err *e = NULL;
	if (!it->buckets || !it->chain || !it->probe || !k)
		e = err_new(ERR_NOMEM, "out of memory for a hash join");
	/* a single plain column key is read from the build rows; other keys are evaluated */
	const struct sql_bexpr *k0 = p->key_count == 1 ? p->right_keys[0] : NULL;
	bool in_rows =
	    k0 && k0->kind == SQL_BX_COLUMN && k0->outer_depth == 0 && k0->column < p->right->width;
	it->key_column = in_rows ? (int64_t)k0->column : -1;
	for (uint64_t r = 0; r < n && !e && !in_rows; r++) {
		struct sql_eval_ctx ctx = sql__ctx(it, sql_rows_at(&it->rows, r), p->right->width);
		for (uint32_t i = 0; i < p->key_count && !e; i++) {
			const struct sql_value *col = sql_bexpr_in_place(p->right_keys[i], &ctx);
			e = col ? sql_value_copy(&k[i], col)
			        : sql_bexpr_eval(p->right_keys[i], &ctx, &k[i]);
		}
		if (!e)
			e = sql_rows_push(&it->keys, k);
		sql_values_free(k, p->key_count);
	}
	free(k);
	/* insert in reverse so every chain lists build rows in their original order */
	for (uint64_t r = n; r-- > 0 && !e;) {
		const struct sql_value *kv = build_key(it, r);
		bool has_null = false;
		for (uint32_t i = 0; i < p->key_count; i++)
			has_null |= kv[i].type == SQL_NULL;
		if (has_null)
			continue; /* NULL never equals anything */
		uint64_t b = sql_values_hash(kv, p->key_count) & (buckets - 1);
		it->chain[r] = it->buckets[b];
		it->buckets[b] = (uint32_t)(r + 1);
	}
	return e;
}

/* Evaluates the left keys for a new left row and positions on its bucket chain. */
static err *probe_left(struct sql_iter *it)
{
	const struct sql_plan *p = it->plan;
	sql_values_free(it->probe, p->key_count);
	struct sql_eval_ctx ctx = sql__ctx(it, it->left, p->input->width);
	it->probe_null = false;
	for (uint32_t i = 0; i < p->key_count; i++) {
		const struct sql_value *col = sql_bexpr_in_place(p->left_keys[i], &ctx);
		TRY(col ? sql_value_copy(&it->probe[i], col)
		        : sql_bexpr_eval(p->left_keys[i], &ctx, &it->probe[i]));
		it->probe_null |= it->probe[i].type == SQL_NULL;
	}
	it->pos =
	    it->probe_null
	        ? 0
	        : it->buckets[sql_values_hash(it->probe, p->key_count) & (it->bucket_count - 1)];
	return NULL;
}

static err *hash_next(struct sql_iter *it, const struct sql_value **row, bool *done)
{
	const struct sql_plan *p = it->plan;
	for (;;) {
		if (it->left_done)
			return right_tail(it, row, done);
		if (!it->left) {
			bool end;
			TRY(sql_iter_next(it->input, &it->left, &end));
			if (end) {
				it->left = NULL;
				it->left_done = true;
				continue;
			}
			it->left_matched = false;
			TRY(probe_left(it));
		}
		while (it->pos) {
			uint64_t r = it->pos - 1;
			it->pos = it->chain[r];
			if (!sql_values_same(build_key(it, r), it->probe, p->key_count))
				continue;
			fill(it, it->left, sql_rows_at(&it->rows, r));
			bool ok;
			TRY(matches(it, &ok));
			if (ok) {
				it->left_matched = true;
				it->right_matched[r] = true;
				*row = it->joined;
				return NULL;
			}
		}
		if (left_finished(it, row))
			return NULL;
	}
}

err *sql__hash_join_open(struct sql_iter *it)
{
	it->next = hash_next;
	TRY(open_sides(it));
	return build_hash(it);
}

/* ---- merge join ---- */

/*
 * Both inputs deliver their rows in ascending order of a unique key (the optimizer only
 * plans a merge join over two primary key scans), so the join walks the two streams side
 * by side: the side with the smaller key advances; equal keys form the one pair either
 * row can be part of, and both sides advance past it. Nothing is buffered: a joined row
 * points into the two children's current rows, which stay valid until this iterator
 * advances them on its next call.
 */

/* Orders two keys; integers (the only keys the optimizer merges on) compare inline. */
static int merge_order(const struct sql_value *a, const struct sql_value *b)
{
	if (a->type == SQL_INT && b->type == SQL_INT)
		return (a->u.i > b->u.i) - (a->u.i < b->u.i);
	return sql_value_order(a, b);
}

static err *merge_next(struct sql_iter *it, const struct sql_value **row, bool *done)
{
	const struct sql_plan *p = it->plan;
	uint32_t lc = p->left_keys[0]->column, rc = p->right_keys[0]->column;
	for (;;) {
		if (it->left_done) {
			*done = true;
			return NULL;
		}
		bool end = false;
		if (!it->left)
			TRY(sql_iter_next(it->input, &it->left, &end));
		if (!end && !it->right_row)
			TRY(sql_iter_next(it->right, &it->right_row, &end));
		if (end) {
			it->left_done = true; /* either side exhausted: no further pair exists */
			continue;
		}
		const struct sql_value *lk = &it->left[lc], *rk = &it->right_row[rc];
		if (lk->type == SQL_NULL || rk->type == SQL_NULL) { /* NULL never matches */
			if (lk->type == SQL_NULL)
				it->left = NULL;
			if (rk->type == SQL_NULL)
				it->right_row = NULL;
			continue;
		}
		int c = merge_order(lk, rk);
		if (c < 0) {
			it->left = NULL;
			continue;
		}
		if (c > 0) {
			it->right_row = NULL;
			continue;
		}
		fill(it, it->left, it->right_row);
		it->left = NULL; /* both rows stay valid until the next call advances them */
		it->right_row = NULL;
		bool ok;
		TRY(matches(it, &ok));
		if (ok) {
			*row = it->joined;
			return NULL;
		}
	}
}

err *sql__merge_join_open(struct sql_iter *it)
{
	const struct sql_plan *p = it->plan;
	assert(p->input && p->right && p->width == p->input->width + p->right->width);
	assert(p->join == SQL_JOIN_TYPE_INNER && p->key_count == 1);
	assert(p->left_keys[0]->kind == SQL_BX_COLUMN && p->left_keys[0]->column < p->input->width);
	assert(p->right_keys[0]->kind == SQL_BX_COLUMN &&
	       p->right_keys[0]->column < p->right->width);
	it->next = merge_next;
	it->cleanup = join_cleanup;
	it->joined = calloc(p->width + 1, sizeof *it->joined);
	if (!it->joined)
		return err_new(ERR_NOMEM, "out of memory for a join");
	TRY(sql_iter_open(it->x, p->input, it->outer, &it->input));
	return sql_iter_open(it->x, p->right, it->outer, &it->right);
}
