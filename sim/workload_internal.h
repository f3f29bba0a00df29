/*
 * workload_internal.h — what the workload driver (workload.c) shares with the four
 * workloads (wl_bank.c, wl_register.c, wl_append.c, wl_groups.c). Not an API.
 *
 * A client runs one operation as a sequence of statements. The driver submits a
 * statement, polls until its answer arrives, classifies errors, rolls back a transaction
 * after a failed statement, and calls the workload's hooks:
 *   begin(cl)   start an operation: submit its first statement with wl__submit();
 *   result(cl)  the last statement succeeded: submit the next one, or end the operation
 *               with wl__end(cl, SIM_OK);
 *   end(cl, o)  the operation ended with outcome o: record it.
 */
#ifndef CAIRN_SIM_WORKLOAD_INTERNAL_H
#define CAIRN_SIM_WORKLOAD_INTERNAL_H

#include "sim/client.h"
#include "sim/history.h"
#include "sim/workload.h"

#define WL_SQL_MAX 512
#define WL_HISTORY_MAX 100000 /* operations recorded per workload; later ones are not */
#define WL_MOPS_MAX 4

#define WL_BANK_ACCOUNTS 8
#define WL_BANK_INITIAL 100
#define WL_REG_KEYS 6
#define WL_APPEND_KEYS 512   /* lists created by the setup */
#define WL_APPEND_ACTIVE 6   /* lists in use at a time */
#define WL_APPEND_PER_KEY 48 /* appends before a list retires (text stays under 1 KiB) */
#define WL_GROUPS 4          /* groups of slots */
#define WL_GROUP_LIMIT 3     /* slots a group may hold */
#define WL_TAGS 8            /* distinct tags (UNIQUE) */
#define WL_KIND_BANK 0       /* wl_bank's index among the kinds */
#define WL_KIND_GROUPS 3     /* wl_groups' index among the kinds */

struct wl_client;

struct wl_kind {
	const char *name;
	void (*setup)(struct sim_workload *wl, struct buf *script); /* ';'-separated statements */
	void (*begin)(struct wl_client *cl);
	void (*result)(struct wl_client *cl);
	void (*end)(struct wl_client *cl, uint8_t outcome); /* NULL: nothing to record */
	err *(*check)(struct sim_workload *wl);
	void (*free)(struct sim_workload *wl); /* NULL: nothing to free */
};

struct wl_client {
	struct sim_workload *wl;
	const struct wl_kind *kind;
	unsigned kind_index;
	uint32_t id;
	bool final;      /* the post-drain client that reads the final state */
	bool final_done; /* the final read succeeded */
	uint32_t final_tries;
	struct sim_client c;
	bool in_op;
	bool waiting;    /* a statement is submitted */
	bool may_commit; /* the statement in flight may commit something */
	bool in_txn;     /* BEGIN succeeded and no COMMIT/ROLLBACK yet */
	bool rolling_back;
	uint32_t phase;
	uint64_t invoke_ms;
	/* register */
	struct sim_reg_op reg;
	/* append */
	struct sim_txn txn;
	/* bank; groups (from: the group) */
	uint32_t from, to;
	int64_t amount;
	bool audit;
	bool claim; /* groups: a claim, not a release */
};

struct sim_workload {
	struct sim_world *world;
	struct sim_wl_config cfg;
	struct prng prng;
	bool running;
	bool draining;
	bool finals_started;
	bool detached; /* the world is gone */
	/* setup */
	struct sim_client setup;
	struct buf setup_script;
	size_t setup_pos;
	bool setup_waiting;
	uint32_t setup_tries;

	const struct wl_kind *kinds[SIM_WL_KINDS];
	struct wl_client clients[SIM_WL_KINDS][SIM_WL_CLIENTS_MAX];
	struct wl_client finals[SIM_WL_KINDS];
	struct sim_wl_stats stats[SIM_WL_KINDS];
	err *violation; /* the first invariant violation seen while running */

	int64_t next_value; /* unique values for writes and appends */
	/* register */
	struct sim_reg_op *reg_ops;
	size_t n_reg;
	int64_t reg_last[WL_REG_KEYS];
	/* append */
	struct sim_txn *txns;
	size_t n_txns;
	uint32_t append_base;
	uint32_t append_count[WL_APPEND_KEYS];
};

extern const struct wl_kind wl_bank;
extern const struct wl_kind wl_register;
extern const struct wl_kind wl_append;
extern const struct wl_kind wl_groups;

/* Submits the operation's next statement (on the operation's node once it has begun). */
void wl__submit(struct wl_client *cl, bool may_commit, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Ends the operation; the driver rolls back first if a transaction is open. */
void wl__end(struct wl_client *cl, uint8_t outcome);

/* For workloads judged by audits: the final client's audit must have succeeded. */
err *wl__check_final_audit(struct sim_workload *wl, unsigned kind_index);

/* Records a violation of an invariant (the first one wins). */
void wl__violation(struct sim_workload *wl, err *e);

/* The result text of the last statement (NUL-terminated). */
const char *wl__output(struct wl_client *cl);

/* Parses a leading decimal integer of the output; false if there is none. */
bool wl__output_int(struct wl_client *cl, int64_t *out);

#endif
