/*
 * exec.c — the iterator framework and the simple node families: constant rows, table
 * scans through their access paths, filter, project, sort, distinct and limit.
 *
 * A scan turns its access path into a list of key ranges, one per point or a single
 * range, and walks them in order: rows come out in primary key order for PK paths and in
 * index order for index paths. An index entry's key ends with the row's primary key, from
 * which the row itself is fetched. The scan's own filter (pushed down by the optimizer)
 * is applied before a row leaves the node.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sql/exec_internal.h"
#include "sql/keys.h"
#include "sql/row.h"
#include "storage/mvcc.h"

void sql_exec_init(struct sql_exec *x, struct sql_txn *txn)
{
	memset(x, 0, sizeof *x);
	x->txn = txn;
}

err *sql__iter_new(struct sql_exec *x, const struct sql_plan *plan,
                   const struct sql_eval_ctx *outer, struct sql_iter **out)
{
	struct sql_iter *it = calloc(1, sizeof *it);
	if (!it)
		return err_new(ERR_NOMEM, "out of memory opening a plan");
	it->plan = plan;
	it->x = x;
	it->outer = outer;
	sql_rows_init(&it->rows, plan->width);
	sql_rows_init(&it->keys, plan->key_count);
	sql__rowset_init(&it->seen,
	                 plan->kind == SQL_PLAN_DISTINCT ? plan->distinct_width : plan->width);
	buf_init(&it->key, MVCC_KEY_MAX + 64);
	buf_init(&it->value, KV_VALUE_MAX);
	buf_init(&it->end, MVCC_KEY_MAX + 64);
	buf_init(&it->prefix, MVCC_KEY_MAX + 64);
	it->own = calloc(plan->width + 1, sizeof *it->own);
	if (!it->own) {
		free(it);
		return err_new(ERR_NOMEM, "out of memory opening a plan");
	}
	*out = it;
	return NULL;
}

void sql__iter_clear_own(struct sql_iter *it)
{
	sql_values_free(it->own, it->plan->width);
}

void sql_iter_close(struct sql_iter *it)
{
	if (!it)
		return;
	if (it->cleanup)
		it->cleanup(it);
	sql_iter_close(it->input);
	sql_iter_close(it->right);
	sql_txn_scan_close(it->scan);
	sql__iter_clear_own(it);
	free(it->own);
	sql_rows_free(&it->rows);
	sql_rows_free(&it->keys);
	sql__rowset_free(&it->seen);
	buf_free(&it->key);
	buf_free(&it->value);
	buf_free(&it->end);
	buf_free(&it->prefix);
	free(it);
}

err *sql__exec_work(struct sql_exec *x)
{
	if (++x->work <= SQL_EXEC_MAX_WORK)
		return NULL;
	return err_new(ERR_LIMIT,
	               "statement too expensive: it looked at more than %llu rows (a join "
	               "without a condition on its tables' keys? add a WHERE or a LIMIT)",
	               (unsigned long long)SQL_EXEC_MAX_WORK);
}

err *sql_iter_next(struct sql_iter *it, const struct sql_value **row, bool *done)
{
	*row = NULL;
	*done = false;
	TRY(sql__exec_work(it->x));
	return it->next(it, row, done);
}

/* ---- VALUES and NOTHING ---- */

static err *values_next(struct sql_iter *it, const struct sql_value **row, bool *done)
{
	const struct sql_plan *p = it->plan;
	if (it->pos >= p->row_count) {
		*done = true;
		return NULL;
	}
	sql__iter_clear_own(it);
	struct sql_eval_ctx ctx = sql__ctx(it, NULL, 0);
	for (uint32_t i = 0; i < p->width; i++)
		TRY(sql_bexpr_eval(p->exprs[it->pos * p->width + i], &ctx, &it->own[i]));
	it->pos++;
	*row = it->own;
	return NULL;
}

static err *nothing_next(struct sql_iter *it, const struct sql_value **row, bool *done)
{
	(void)it;
	(void)row;
	*done = true;
	return NULL;
}

/* ---- scans ---- */

/* Replaces the key in `b` by the first key after every key that starts with it. */
static err *to_prefix_end(struct buf *b)
{
	struct buf tmp;
	buf_init(&tmp, MVCC_KEY_MAX + 64);
	err *e = sql_key_prefix_end(buf_slice(b), &tmp);
	if (!e) {
		buf_clear(b);
		e = buf_append(b, tmp.data, tmp.len);
	}
	buf_free(&tmp);
	return e;
}

/*
 * Cuts a range bound longer than any stored key to the longest key's length; an upper
 * bound then ends after every key starting with what is left. Either way the range only
 * grows: the scan's predicate still decides every row.
 */
static err *clamp_bound(struct buf *bound, bool upper)
{
	if (bound->len <= MVCC_KEY_MAX)
		return NULL;
	bound->len = MVCC_KEY_MAX;
	return upper ? to_prefix_end(bound) : NULL;
}

/*
 * Sets it->key / it->end to range number it->pos of the access path; false past the end.
 * A point whose key would be longer than any stored key matches nothing and is passed
 * over (it->pos moves past it).
 */
static err *scan_range(struct sql_iter *it, bool *have)
{
	const struct sql_plan *p = it->plan;
	const struct sql_access *a = &p->access;
	bool index = a->kind == SQL_ACCESS_INDEX_POINTS || a->kind == SQL_ACCESS_INDEX_RANGE;
	bool points = a->kind == SQL_ACCESS_PK_POINTS || a->kind == SQL_ACCESS_INDEX_POINTS;
	struct buf *prefix = &it->prefix;
	buf_clear(prefix);
	err *e = index ? sql_key_index_prefix(prefix, p->table->indexes[a->index_pos].id)
	               : sql_key_row_prefix(prefix, p->table->id);
	if (e)
		return e;
	/* each round passes over one point (a bounded list) */
	for (; points && it->pos < a->point_count; it->pos++) {
		buf_clear(&it->key);
		e = buf_append(&it->key, prefix->data, prefix->len);
		if (!e)
			e = sql_key_put_value(&it->key, &a->points[it->pos]);
		if (e)
			return e;
		if (it->key.len > MVCC_KEY_MAX)
			continue; /* no stored key is that long */
		*have = true;
		return sql_key_prefix_end(buf_slice(&it->key), &it->end);
	}
	*have = !points && it->pos == 0;
	if (!*have)
		return NULL;
	/* a range (FULL is the unbounded one) */
	buf_clear(&it->key);
	e = buf_append(&it->key, prefix->data, prefix->len);
	if (!e && a->has_hi && a->kind != SQL_ACCESS_FULL) {
		buf_clear(&it->end);
		e = buf_append(&it->end, prefix->data, prefix->len);
		if (!e)
			e = sql_key_put_value(&it->end, &a->hi);
		if (!e && a->hi_inclusive)
			e = to_prefix_end(&it->end);
	} else if (!e) {
		e = sql_key_prefix_end(buf_slice(prefix), &it->end);
	}
	if (!e)
		e = clamp_bound(&it->end, true);
	if (!e && a->has_lo && a->kind != SQL_ACCESS_FULL) {
		e = sql_key_put_value(&it->key, &a->lo);
		if (!e && !a->lo_inclusive)
			e = to_prefix_end(&it->key);
	}
	return e ? e : clamp_bound(&it->key, false);
}

/*
 * Decodes the primary key value at the end of a row key or an index entry key read by
 * scan `it` (whose it->prefix is the table's or index's key prefix).
 */
static err *key_pk(const struct sql_iter *it, struct slice key, struct sql_value *pk)
{
	const struct sql_plan *p = it->plan;
	const struct buf *prefix = &it->prefix;
	bool index =
	    p->access.kind == SQL_ACCESS_INDEX_POINTS || p->access.kind == SQL_ACCESS_INDEX_RANGE;
	const struct sql_index *x = index ? &p->table->indexes[p->access.index_pos] : NULL;
	assert(prefix->len > 0);
	if (key.len < prefix->len || memcmp(key.ptr, prefix->data, prefix->len))
		return err_new(ERR_CORRUPT, "key outside its table");
	struct slice cur = {key.ptr + prefix->len, key.len - prefix->len};
	for (uint32_t i = 0; x && i < x->column_count; i++) {
		struct sql_value v;
		TRY(sql_key_get_value(&cur, &v));
		sql_value_free(&v);
	}
	TRY(sql_key_get_value(&cur, pk));
	if (cur.len) {
		sql_value_free(pk);
		return err_new(ERR_CORRUPT, "trailing bytes in a key");
	}
	return NULL;
}

/*
 * Fills it->own from one scanned entry; *keep is false if the filter rejects it. `key` is
 * the entry's key, or NULL for the entry it->scan returned last: its key is then decoded
 * only if the row needs it (an index entry, or a plan that outputs the key).
 */
static err *scan_row(struct sql_iter *it, const struct slice *key, struct slice value, bool *keep)
{
	const struct sql_plan *p = it->plan;
	const struct sql_table *t = p->table;
	assert(p->kind == SQL_PLAN_SCAN && p->width == t->column_count + (p->with_key ? 1 : 0));
	bool index =
	    p->access.kind == SQL_ACCESS_INDEX_POINTS || p->access.kind == SQL_ACCESS_INDEX_RANGE;
	assert(!index || p->access.index_pos < t->index_count);
	sql__iter_clear_own(it);
	struct sql_value pk = sql_null();
	if (index || p->with_key) {
		struct slice k;
		if (key)
			k = *key;
		else
			TRY(sql_txn_scan_key(it->scan, &k));
		TRY(key_pk(it, k, &pk));
	}
	err *e = NULL;
	if (index) {
		struct buf rk;
		buf_init(&rk, MVCC_KEY_MAX + 64);
		bool found = false;
		e = sql_key_row(&rk, t->id, &pk);
		if (!e)
			e = sql_txn_get(it->x->txn, buf_slice(&rk), &it->value, &found);
		if (!e && !found)
			e = err_new(ERR_CORRUPT, "index %s points to a missing row",
			            t->indexes[p->access.index_pos].name);
		buf_free(&rk);
		if (!e)
			e = sql_row_decode(buf_slice(&it->value), it->own, t->column_count);
	} else {
		e = sql_row_decode(value, it->own, t->column_count);
	}
	if (e) {
		sql_value_free(&pk);
		return e;
	}
	if (p->with_key)
		it->own[t->column_count] = pk;
	else
		sql_value_free(&pk);
	*keep = true;
	if (p->predicate) {
		struct sql_eval_ctx ctx = sql__ctx(it, it->own, p->width);
		TRY(sql_bexpr_truth(p->predicate, &ctx, keep));
	}
	return NULL;
}

/*
 * Primary-key points are exact reads: one seek to the newest visible version of each key,
 * where a one-key range scan would walk every version the key still has.
 */
static err *scan_points_next(struct sql_iter *it, const struct sql_value **row, bool *done)
{
	assert(it->plan->access.kind == SQL_ACCESS_PK_POINTS);
	for (;;) {
		bool have;
		TRY(scan_range(it, &have));
		if (!have) {
			*done = true;
			return NULL;
		}
		it->pos++;
		bool found = false;
		TRY(sql_txn_get(it->x->txn, buf_slice(&it->key), &it->value, &found));
		if (!found)
			continue;
		bool keep;
		struct slice key = buf_slice(&it->key);
		TRY(scan_row(it, &key, buf_slice(&it->value), &keep));
		if (keep) {
			*row = it->own;
			*done = false;
			return NULL;
		}
	}
}

static err *scan_next(struct sql_iter *it, const struct sql_value **row, bool *done)
{
	if (it->plan->access.kind == SQL_ACCESS_PK_POINTS)
		return scan_points_next(it, row, done);
	for (;;) {
		if (!it->scan) {
			bool have;
			TRY(scan_range(it, &have));
			if (!have) {
				*done = true;
				return NULL;
			}
			it->pos++;
			TRY(sql_txn_scan_open(it->x->txn, buf_slice(&it->key), buf_slice(&it->end),
			                      &it->scan));
		}
		struct slice v;
		bool end;
		TRY(sql_txn_scan_step(it->scan, &v, &end));
		if (end) {
			sql_txn_scan_close(it->scan);
			it->scan = NULL;
			continue;
		}
		bool keep;
		TRY(scan_row(it, NULL, v, &keep));
		if (keep) {
			*row = it->own;
			return NULL;
		}
	}
}

/* ---- filter, project, limit ---- */

static err *filter_next(struct sql_iter *it, const struct sql_value **row, bool *done)
{
	for (;;) {
		TRY(sql_iter_next(it->input, row, done));
		if (*done)
			return NULL;
		struct sql_eval_ctx ctx = sql__ctx(it, *row, it->plan->width);
		bool keep;
		TRY(sql_bexpr_truth(it->plan->predicate, &ctx, &keep));
		if (keep)
			return NULL;
	}
}

static err *project_next(struct sql_iter *it, const struct sql_value **row, bool *done)
{
	assert(it->plan->expr_count == it->plan->width);
	const struct sql_value *in;
	TRY(sql_iter_next(it->input, &in, done));
	if (*done)
		return NULL;
	sql__iter_clear_own(it);
	struct sql_eval_ctx ctx = sql__ctx(it, in, it->plan->input->width);
	for (uint32_t i = 0; i < it->plan->expr_count; i++)
		TRY(sql_bexpr_eval(it->plan->exprs[i], &ctx, &it->own[i]));
	*row = it->own;
	return NULL;
}

static err *limit_next(struct sql_iter *it, const struct sql_value **row, bool *done)
{
	const struct sql_plan *p = it->plan;
	if (!it->started) {
		it->started = true;
		for (uint64_t i = 0; i < p->offset; i++) {
			TRY(sql_iter_next(it->input, row, done));
			if (*done)
				return NULL;
		}
	}
	if (it->emitted >= p->limit) {
		*done = true;
		return NULL;
	}
	TRY(sql_iter_next(it->input, row, done));
	if (!*done)
		it->emitted++;
	return NULL;
}

/* ---- sort and distinct ---- */

/*
 * Sorts the input. With a top-N bound the rows held never exceed twice the bound: the
 * buffer is sorted and cut back to the bound whenever it fills. Cutting keeps the first
 * rows of a stable order, so ties still come out in input order.
 */
static err *sort_all(struct sql_iter *it)
{
	const struct sql_plan *p = it->plan;
	for (;;) {
		const struct sql_value *r;
		bool done;
		TRY(sql_iter_next(it->input, &r, &done));
		if (done)
			break;
		TRY(sql_rows_push(&it->rows, r));
		if (p->top && it->rows.count >= 2 * p->top) {
			TRY(sql_rows_sort(&it->rows, p->sort, p->sort_count));
			sql_rows_truncate(&it->rows, p->top);
		}
	}
	TRY(sql_rows_sort(&it->rows, p->sort, p->sort_count));
	if (p->top)
		sql_rows_truncate(&it->rows, p->top);
	return NULL;
}

static err *sort_next(struct sql_iter *it, const struct sql_value **row, bool *done)
{
	if (!it->started) {
		it->started = true;
		TRY(sort_all(it));
	}
	if (it->pos >= it->rows.count) {
		*done = true;
		return NULL;
	}
	*row = sql_rows_at(&it->rows, it->pos++);
	return NULL;
}

static err *distinct_next(struct sql_iter *it, const struct sql_value **row, bool *done)
{
	for (;;) {
		TRY(sql_iter_next(it->input, row, done));
		if (*done)
			return NULL;
		bool added;
		TRY(sql__rowset_add(&it->seen, *row, &added));
		if (added)
			return NULL;
	}
}

/* ---- opening ---- */

err *sql_iter_open(struct sql_exec *x, const struct sql_plan *plan,
                   const struct sql_eval_ctx *outer, struct sql_iter **out)
{
	assert(x && x->txn && plan && out);
	struct sql_iter *it;
	TRY(sql__iter_new(x, plan, outer, &it));
	err *e = NULL;
	if (plan->input && plan->kind != SQL_PLAN_JOIN && plan->kind != SQL_PLAN_HASH_JOIN &&
	    plan->kind != SQL_PLAN_MERGE_JOIN && plan->kind != SQL_PLAN_SET_OP)
		e = sql_iter_open(x, plan->input, outer, &it->input);
	if (!e) {
		switch (plan->kind) {
		case SQL_PLAN_VALUES: it->next = values_next; break;
		case SQL_PLAN_NOTHING: it->next = nothing_next; break;
		case SQL_PLAN_SCAN: it->next = scan_next; break;
		case SQL_PLAN_FILTER: it->next = filter_next; break;
		case SQL_PLAN_PROJECT: it->next = project_next; break;
		case SQL_PLAN_LIMIT: it->next = limit_next; break;
		case SQL_PLAN_SORT: it->next = sort_next; break;
		case SQL_PLAN_DISTINCT: it->next = distinct_next; break;
		case SQL_PLAN_JOIN: e = sql__join_open(it); break;
		case SQL_PLAN_HASH_JOIN: e = sql__hash_join_open(it); break;
		case SQL_PLAN_MERGE_JOIN: e = sql__merge_join_open(it); break;
		case SQL_PLAN_AGGREGATE: e = sql__aggregate_open(it); break;
		case SQL_PLAN_SET_OP: e = sql__set_op_open(it); break;
		}
	}
	if (e) {
		sql_iter_close(it);
		return e;
	}
	*out = it;
	return NULL;
}

err *sql_exec_collect(struct sql_exec *x, const struct sql_plan *plan,
                      const struct sql_eval_ctx *outer, struct sql_rows *rows)
{
	struct sql_iter *it;
	TRY(sql_iter_open(x, plan, outer, &it));
	err *e = NULL;
	for (;;) {
		const struct sql_value *r;
		bool done;
		e = sql_iter_next(it, &r, &done);
		if (e || done)
			break;
		e = sql_rows_push(rows, r);
		if (e)
			break;
	}
	sql_iter_close(it);
	return e;
}
