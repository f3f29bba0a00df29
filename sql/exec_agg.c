/*
 * exec_agg.c — GROUP BY and aggregate functions.
 *
 * Sort-based: every input row becomes a record of its group key values followed by one
 * argument value per aggregate; the records are stably sorted by group key, and each run
 * of equal keys (NULLs group together, 1 equals 1.0) is folded into one output row. So
 * groups come out in key order, deterministically, as SQLite's do. A query with
 * aggregates but no GROUP BY has exactly one group, even over no rows; unless one of its
 * aggregates is DISTINCT, its rows are folded as they arrive, without materialising them.
 *
 * Semantics, as in SQLite: COUNT(x) counts non-NULL values, COUNT(*) rows; SUM of
 * INTEGERs is an INTEGER (overflow is an error) and NULL over no values; TOTAL is always a
 * FLOAT (0.0 over no values); AVG is a FLOAT; MIN/MAX ignore NULLs; DISTINCT aggregates
 * fold each distinct non-NULL value once.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sql/exec_internal.h"

struct acc {
	uint64_t count;
	int64_t isum;
	double fsum;
	bool is_float;
	struct sql_value best; /* MIN / MAX / ANY */
};

static err *accumulate(const struct sql_agg *a, struct acc *s, const struct sql_value *v)
{
	if (a->func == SQL_AGG_ANY) {
		sql_value_free(&s->best);
		return sql_value_copy(&s->best, v);
	}
	if (a->func == SQL_AGG_COUNT_STAR) {
		s->count++;
		return NULL;
	}
	if (v->type == SQL_NULL)
		return NULL;
	s->count++;
	switch (a->func) {
	case SQL_AGG_SUM:
	case SQL_AGG_AVG:
	case SQL_AGG_TOTAL: {
		double d = v->type == SQL_INT    ? (double)v->u.i
		           : v->type == SQL_BOOL ? (double)v->u.b
		                                 : v->u.f;
		s->fsum += d;
		if (v->type == SQL_FLOAT) {
			s->is_float = true;
		} else if (!s->is_float) {
			int64_t i = v->type == SQL_INT ? v->u.i : v->u.b;
			if (__builtin_add_overflow(s->isum, i, &s->isum) && a->func == SQL_AGG_SUM)
				return err_new(ERR_LIMIT, "integer overflow");
		}
		return NULL;
	}
	case SQL_AGG_MIN:
	case SQL_AGG_MAX: {
		if (s->best.type != SQL_NULL) {
			int c = sql_value_order(v, &s->best);
			if ((a->func == SQL_AGG_MIN && c >= 0) ||
			    (a->func == SQL_AGG_MAX && c <= 0))
				return NULL;
		}
		sql_value_free(&s->best);
		return sql_value_copy(&s->best, v);
	}
	default: return NULL;
	}
}

static struct sql_value result(const struct sql_agg *a, struct acc *s)
{
	switch (a->func) {
	case SQL_AGG_COUNT_STAR:
	case SQL_AGG_COUNT: return sql_int((int64_t)s->count);
	case SQL_AGG_SUM:
		if (!s->count)
			return sql_null();
		return s->is_float ? sql_float(s->fsum) : sql_int(s->isum);
	case SQL_AGG_TOTAL: return sql_float(s->fsum);
	case SQL_AGG_AVG: return s->count ? sql_float(s->fsum / (double)s->count) : sql_null();
	case SQL_AGG_MIN:
	case SQL_AGG_MAX:
	case SQL_AGG_ANY: {
		struct sql_value v = s->best;
		s->best = sql_null();
		return v;
	}
	}
	return sql_null();
}

/* Folds records [from, to) of one group into one output row appended to it->rows. */
static err *fold_group(struct sql_iter *it, const struct sql_rows *recs, uint64_t from, uint64_t to,
                       struct sql_value *out)
{
	const struct sql_plan *p = it->plan;
	uint32_t g = p->group_count;
	assert(from <= to && to <= recs->count && recs->width == g + p->agg_count);
	err *e = NULL;
	for (uint32_t i = 0; i < g; i++)
		out[i] = from < to ? sql_rows_at(recs, from)[i] : sql_null();
	for (uint32_t k = 0; k < p->agg_count && !e; k++) {
		const struct sql_agg *a = &p->aggs[k];
		struct acc s = {0};
		if (a->distinct && a->func != SQL_AGG_COUNT_STAR) {
			struct sql__rowset seen;
			sql__rowset_init(&seen, 1);
			for (uint64_t r = from; r < to && !e; r++) {
				const struct sql_value *v = &sql_rows_at(recs, r)[g + k];
				bool added;
				if (v->type != SQL_NULL)
					e = sql__rowset_add(&seen, v, &added);
			}
			for (uint64_t r = 0; r < seen.rows.count && !e; r++)
				e = accumulate(a, &s, sql_rows_at(&seen.rows, r));
			sql__rowset_free(&seen);
		} else {
			for (uint64_t r = from; r < to && !e; r++)
				e = accumulate(a, &s, &sql_rows_at(recs, r)[g + k]);
		}
		out[g + k] = result(a, &s);
		sql_value_free(&s.best);
	}
	if (!e)
		e = sql_rows_push(&it->rows, out);
	/* the group values were borrowed from recs; only the aggregate results are ours */
	sql_values_free(out + g, p->agg_count);
	return e;
}

/* Reads the input into group-key + argument records. */
static err *collect(struct sql_iter *it, struct sql_rows *recs, struct sql_value *rec)
{
	const struct sql_plan *p = it->plan;
	uint32_t g = p->group_count, w = g + p->agg_count;
	for (;;) {
		const struct sql_value *in;
		bool done;
		TRY(sql_iter_next(it->input, &in, &done));
		if (done)
			return NULL;
		struct sql_eval_ctx ctx = sql__ctx(it, in, p->input->width);
		err *e = NULL;
		for (uint32_t i = 0; i < g && !e; i++)
			e = sql_bexpr_eval(p->groups[i], &ctx, &rec[i]);
		for (uint32_t k = 0; k < p->agg_count && !e; k++)
			e = p->aggs[k].arg ? sql_bexpr_eval(p->aggs[k].arg, &ctx, &rec[g + k])
			                   : NULL;
		if (!e)
			e = sql_rows_push(recs, rec);
		sql_values_free(rec, w);
		TRY(e);
	}
}

/*
 * One group and no DISTINCT aggregate: folds each input row into the accumulators as it
 * arrives (same order, same results as folding the collected records) instead of
 * materialising the input.
 */
static err *aggregate_stream(struct sql_iter *it, struct sql_value *rec)
{
	const struct sql_plan *p = it->plan;
	assert(p->group_count == 0);
	struct acc *accs = calloc(p->agg_count + 1, sizeof *accs);
	if (!accs)
		return err_new(ERR_NOMEM, "out of memory aggregating");
	err *e = NULL;
	for (;;) {
		const struct sql_value *in;
		bool done;
		e = sql_iter_next(it->input, &in, &done);
		if (e || done)
			break;
		struct sql_eval_ctx ctx = sql__ctx(it, in, p->input->width);
		for (uint32_t k = 0; k < p->agg_count && !e; k++) {
			const struct sql_agg *a = &p->aggs[k];
			if (a->func == SQL_AGG_COUNT_STAR) {
				accs[k]
				    .count++; /* what accumulate() does for it, without the call */
				continue;
			}
			const struct sql_value *v =
			    a->arg ? sql_bexpr_in_place(a->arg, &ctx) : NULL;
			if (!v) {
				v = &rec[k];
				if (a->arg)
					e = sql_bexpr_eval(a->arg, &ctx, &rec[k]);
			}
			if (!e)
				e = accumulate(a, &accs[k], v);
		}
		sql_values_free(rec, p->agg_count);
		if (e)
			break;
	}
	for (uint32_t k = 0; k < p->agg_count; k++) {
		rec[k] = result(&p->aggs[k], &accs[k]);
		sql_value_free(&accs[k].best);
	}
	if (!e)
		e = sql_rows_push(&it->rows, rec);
	sql_values_free(rec, p->agg_count);
	free(accs);
	return e;
}

static bool any_distinct(const struct sql_plan *p)
{
	for (uint32_t k = 0; k < p->agg_count; k++)
		if (p->aggs[k].distinct)
			return true;
	return false;
}

/* Collects the input into records, sorts them by group key and folds each group. */
static err *aggregate_sorted(struct sql_iter *it, struct sql_value *rec)
{
	const struct sql_plan *p = it->plan;
	uint32_t g = p->group_count;
	struct sql_rows recs;
	sql_rows_init(&recs, g + p->agg_count);
	struct sql_sort_key *keys = calloc(g + 1, sizeof *keys);
	err *e = keys ? collect(it, &recs, rec) : err_new(ERR_NOMEM, "out of memory aggregating");
	for (uint32_t i = 0; i < g && keys; i++)
		keys[i] = (struct sql_sort_key){i, false, true};
	if (!e && g)
		e = sql_rows_sort(&recs, keys, g);
	if (!e && !g) {
		e = fold_group(it, &recs, 0, recs.count, rec);
	} else {
		uint64_t from = 0;
		for (uint64_t r = 1; r <= recs.count && !e; r++) {
			if (r < recs.count &&
			    sql_values_same(sql_rows_at(&recs, r), sql_rows_at(&recs, from), g))
				continue;
			e = fold_group(it, &recs, from, r, rec);
			from = r;
		}
	}
	sql_rows_free(&recs);
	free(keys);
	return e;
}

static err *aggregate_all(struct sql_iter *it)
{
	const struct sql_plan *p = it->plan;
	struct sql_value *rec = calloc(p->group_count + p->agg_count + 1, sizeof *rec);
	if (!rec)
		return err_new(ERR_NOMEM, "out of memory aggregating");
	err *e = !p->group_count && !any_distinct(p) ? aggregate_stream(it, rec)
	                                             : aggregate_sorted(it, rec);
	free(rec);
	return e;
}

static err *aggregate_next(struct sql_iter *it, const struct sql_value **row, bool *done)
{
	if (!it->started) {
		it->started = true;
		TRY(aggregate_all(it));
	}
	if (it->pos >= it->rows.count) {
		*done = true;
		return NULL;
	}
	*row = sql_rows_at(&it->rows, it->pos++);
	return NULL;
}

err *sql__aggregate_open(struct sql_iter *it)
{
	assert(it->plan->width == it->plan->group_count + it->plan->agg_count);
	it->next = aggregate_next;
	return NULL;
}
