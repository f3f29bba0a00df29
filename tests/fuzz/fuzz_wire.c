/*
 * fuzz_wire.c — every decoder of bytes that come from outside a node (fuzz.h): Raft
 * messages from peers, client requests and responses, the frames around them, msgpack
 * documents, and commit records as the log hands them to MVCC. The input's first byte
 * picks the decoder, the rest is its input.
 *
 * cairnd's configuration text and command-line flags are here too: they also come from
 * outside.
 *
 * Properties, beyond the sanitizers' (no crash, leak or undefined behaviour):
 *   - a rejected input is an error with a message, and a frame stream stays dead after it;
 *   - what decodes re-encodes to bytes that decode to the same thing (Raft messages field
 *     by field, requests and responses to the same encoding again);
 *   - a commit record of any bytes applies as an outcome, never an error (mvcc.h), and
 *     two stores that apply it reach the same outcome and the same state hash.
 */
#include <assert.h>
#include <string.h>

#include "base/codec.h"
#include "base/prng.h"
#include "fuzz.h"
#include "net/config.h"
#include "net/frame.h"
#include "net/protocol.h"
#include "raft/message.h"
#include "sql/session.h"
#include "storage/kv_memory.h"
#include "storage/mvcc.h"
#include "storage/mvcc_record.h"

enum fuzz_wire_target {
	FUZZ_WIRE_RAFT,
	FUZZ_WIRE_REQUEST,
	FUZZ_WIRE_RESPONSE,
	FUZZ_WIRE_FRAMES,
	FUZZ_WIRE_MSGPACK,
	FUZZ_WIRE_RECORD,
	FUZZ_WIRE_APPLY,
	FUZZ_WIRE_CONFIG,
	FUZZ_WIRE_FLAGS,
	FUZZ_WIRE_TARGETS,
};

/* Encodings are bounded like the frames that carry them. */
#define FUZZ_WIRE_ARGS_MAX 32
#define FUZZ_WIRE_BUF_MAX ((size_t)16 << 20)

/* Frees a rejection after checking it says why. */
static void fuzz_wire_rejected(err *e)
{
	FUZZ_REQUIRE(err_msg(e)[0] != '\0');
	err_free(e);
}

static bool fuzz_wire_entries_equal(const struct raft_message *a, const struct raft_message *b)
{
	if (a->n_entries != b->n_entries)
		return false;
	for (size_t i = 0; i < a->n_entries; i++) {
		const struct raft_entry *x = &a->entries[i], *y = &b->entries[i];
		if (x->term != y->term || x->index != y->index || x->type != y->type ||
		    x->origin != y->origin || x->id != y->id || x->len != y->len ||
		    (x->len > 0 && memcmp(x->data, y->data, x->len) != 0))
			return false;
	}
	return true;
}

static void fuzz_wire_raft(const uint8_t *data, size_t size)
{
	struct raft_message m;
	err *e = raft_message_decode(data, size, &m);
	if (e) {
		fuzz_wire_rejected(e);
		return;
	}
	struct buf again;
	buf_init(&again, FUZZ_WIRE_BUF_MAX);
	FUZZ_REQUIRE(raft_message_encode(&m, &again) == NULL);
	struct raft_message back;
	FUZZ_REQUIRE(raft_message_decode(again.data, again.len, &back) == NULL);
	FUZZ_REQUIRE(m.type == back.type && m.term == back.term && m.from == back.from &&
	             m.to == back.to && m.index == back.index && m.log_term == back.log_term &&
	             m.commit == back.commit && m.reject == back.reject &&
	             m.hint_index == back.hint_index && m.hint_term == back.hint_term &&
	             m.ctx == back.ctx);
	FUZZ_REQUIRE(fuzz_wire_entries_equal(&m, &back));
	raft_message_free(&back);
	buf_free(&again);
	raft_message_free(&m);
}

static void fuzz_wire_request(const uint8_t *data, size_t size)
{
	struct net_request req;
	err *e = net_request_decode(data, size, &req);
	if (e) {
		fuzz_wire_rejected(e);
		return;
	}
	struct buf again;
	buf_init(&again, FUZZ_WIRE_BUF_MAX);
	FUZZ_REQUIRE(net_request_encode(&req, &again) == NULL);
	struct net_request back;
	FUZZ_REQUIRE(net_request_decode(again.data, again.len, &back) == NULL);
	FUZZ_REQUIRE(back.kind == req.kind && back.text.len == req.text.len);
	FUZZ_REQUIRE(req.text.len == 0 || memcmp(back.text.ptr, req.text.ptr, req.text.len) == 0);
	buf_free(&again);
}

static void fuzz_wire_response(const uint8_t *data, size_t size)
{
	struct net_response resp;
	err *e = net_response_decode(data, size, &resp);
	if (e) {
		net_response_free(&resp);
		fuzz_wire_rejected(e);
		return;
	}
	struct buf once, twice;
	buf_init(&once, FUZZ_WIRE_BUF_MAX);
	buf_init(&twice, FUZZ_WIRE_BUF_MAX);
	FUZZ_REQUIRE(net_response_encode(&resp, &once) == NULL);
	struct net_response back;
	FUZZ_REQUIRE(net_response_decode(once.data, once.len, &back) == NULL);
	FUZZ_REQUIRE(net_response_encode(&back, &twice) == NULL);
	FUZZ_REQUIRE(once.len == twice.len && memcmp(once.data, twice.data, once.len) == 0);
	net_response_free(&back);
	buf_free(&once);
	buf_free(&twice);
	net_response_free(&resp);
}

/* Feeds the bytes in pieces of 1 to 16 (the piece sizes come from the bytes themselves). */
static void fuzz_wire_frames(const uint8_t *data, size_t size)
{
	struct net_frame_decoder d;
	net_frame_decoder_init(&d, NET_FRAME_MAX_REQUEST_BYTES);
	size_t fed = 0, taken = 0;
	err *e = NULL;
	while (fed < size && !e) {
		size_t piece = 1 + data[fed] % 16;
		piece = piece < size - fed ? piece : size - fed;
		e = net_frame_decoder_feed(&d, data + fed, piece);
		fed += piece;
		bool ready = true;
		while (!e && ready) {
			struct slice payload;
			e = net_frame_decoder_next(&d, &payload, &ready);
			if (!e && ready)
				taken += payload.len + NET_FRAME_OVERHEAD_BYTES;
		}
	}
	if (e) {
		fuzz_wire_rejected(e);
		struct slice payload;
		bool ready;
		e = net_frame_decoder_next(&d, &payload, &ready);
		FUZZ_REQUIRE(e != NULL); /* a broken stream stays broken */
		err_free(e);
	} else {
		FUZZ_REQUIRE(taken + net_frame_decoder_pending(&d) == size);
	}
	net_frame_decoder_free(&d);
}

static void fuzz_wire_msgpack(const uint8_t *data, size_t size)
{
	struct codec_doc doc;
	const msgpack_object *root;
	err *e = codec_parse(&doc, data, size, &root);
	if (e) {
		fuzz_wire_rejected(e);
		return;
	}
	codec_doc_free(&doc);
}

static void fuzz_wire_record(const uint8_t *data, size_t size)
{
	struct mvcc__record r;
	err *e = mvcc__record_decode(data, size, &r);
	if (e) {
		fuzz_wire_rejected(e);
		return;
	}
	mvcc__record_free(&r);
}

/* Applies the record at index 1 and again at 2 to a fresh store; returns its state hash. */
static uint64_t fuzz_wire_apply_once(const uint8_t *data, size_t size, struct mvcc_outcome *out)
{
	struct kv *kv;
	FUZZ_REQUIRE(kvmem_open(&kv) == NULL);
	struct prng prng;
	prng_seed(&prng, 1);
	struct mvcc_options options = {.prng = &prng};
	struct mvcc *m;
	FUZZ_REQUIRE(mvcc_open(kv, &options, &m) == NULL);
	FUZZ_REQUIRE(mvcc_apply(m, data, size, 1, &out[0]) == NULL);
	FUZZ_REQUIRE(mvcc_apply(m, data, size, 2, &out[1]) == NULL);
	FUZZ_REQUIRE(out[0].committed || out[0].code != 0);
	uint64_t hash;
	FUZZ_REQUIRE(mvcc_state_hash(m, &hash) == NULL);
	mvcc_close(m);
	kv_close(kv);
	return hash;
}

static void fuzz_wire_apply(const uint8_t *data, size_t size)
{
	struct mvcc_outcome a[2], b[2];
	uint64_t ha = fuzz_wire_apply_once(data, size, a);
	uint64_t hb = fuzz_wire_apply_once(data, size, b);
	FUZZ_REQUIRE(ha == hb);
	for (int i = 0; i < 2; i++)
		FUZZ_REQUIRE(a[i].committed == b[i].committed && a[i].code == b[i].code &&
		             a[i].duplicate == b[i].duplicate && a[i].index == b[i].index &&
		             strcmp(a[i].message, b[i].message) == 0);
}

/* Checks a configuration that parsed and passed net_config_finish(). */
static void fuzz_wire_config_sane(const struct net_config *c)
{
	FUZZ_REQUIRE(c->node_id != 0 && c->peer_count <= NET_TRANSPORT_MAX_NODES);
	FUZZ_REQUIRE(memchr(c->data_dir, '\0', sizeof c->data_dir) != NULL);
}

/* A configuration file's text, then the check that fills in defaults. */
static void fuzz_wire_config(const uint8_t *data, size_t size)
{
	struct net_config c;
	net_config_init(&c);
	err *e = net_config_load_text(&c, (const char *)data, size, "fuzz.conf");
	if (!e)
		e = net_config_finish(&c);
	if (e) {
		fuzz_wire_rejected(e);
		return;
	}
	fuzz_wire_config_sane(&c);
}

/*
 * Command-line flags, one per line of the input. An input naming --config is skipped:
 * it would open a file named by the input (a FIFO would block the run).
 */
static void fuzz_wire_flags(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	FUZZ_REQUIRE(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	char *argv[FUZZ_WIRE_ARGS_MAX + 1] = {"cairnd"};
	int argc = 1;
	for (char *line = text; line && argc < FUZZ_WIRE_ARGS_MAX; argc++) {
		argv[argc] = line;
		line = strchr(line, '\n');
		if (line)
			*line++ = '\0';
		if (strncmp(argv[argc], "--config", 8) == 0) {
			free(text);
			return;
		}
	}
	struct net_config c;
	net_config_init(&c);
	err *e = net_config_parse_args(&c, argc, argv);
	if (!e)
		e = net_config_finish(&c);
	if (e)
		fuzz_wire_rejected(e);
	else
		fuzz_wire_config_sane(&c);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	const uint8_t *rest = data + 1;
	size_t len = size - 1;
	switch ((enum fuzz_wire_target)(data[0] % FUZZ_WIRE_TARGETS)) {
	case FUZZ_WIRE_RAFT: fuzz_wire_raft(rest, len); break;
	case FUZZ_WIRE_REQUEST: fuzz_wire_request(rest, len); break;
	case FUZZ_WIRE_RESPONSE: fuzz_wire_response(rest, len); break;
	case FUZZ_WIRE_FRAMES: fuzz_wire_frames(rest, len); break;
	case FUZZ_WIRE_MSGPACK: fuzz_wire_msgpack(rest, len); break;
	case FUZZ_WIRE_RECORD: fuzz_wire_record(rest, len); break;
	case FUZZ_WIRE_APPLY: fuzz_wire_apply(rest, len); break;
	case FUZZ_WIRE_CONFIG: fuzz_wire_config(rest, len); break;
	case FUZZ_WIRE_FLAGS: fuzz_wire_flags(rest, len); break;
	case FUZZ_WIRE_TARGETS: break;
	}
	return 0;
}

/* ---- seeds: one valid input of every kind ---- */

struct fuzz_wire_seeder {
	fuzz_add_fn *add;
	void *ctx;
	struct buf scratch;
};

/* Hands the seed `target` + `bytes` to the driver. */
static void fuzz_wire_seed(struct fuzz_wire_seeder *s, enum fuzz_wire_target target,
                           const uint8_t *bytes, size_t len)
{
	buf_clear(&s->scratch);
	uint8_t tag = (uint8_t)target;
	FUZZ_REQUIRE(buf_append(&s->scratch, &tag, 1) == NULL);
	FUZZ_REQUIRE(buf_append(&s->scratch, bytes, len) == NULL);
	s->add(s->ctx, s->scratch.data, s->scratch.len);
}

static struct mvcc *fuzz_wire_seed_store;

static err *fuzz_wire_read_version(void *ctx, bool validated_write, uint64_t *version)
{
	(void)ctx;
	(void)validated_write;
	*version = mvcc_applied_version(fuzz_wire_seed_store);
	return NULL;
}

/* Real commit records: a table's creation, an insert, an update and a delete. */
static void fuzz_wire_seed_records(struct fuzz_wire_seeder *s, struct buf *records, size_t n)
{
	static const char *const statements[] = {
	    "CREATE TABLE t (id INTEGER PRIMARY KEY, v VARCHAR UNIQUE, f FLOAT)",
	    "INSERT INTO t VALUES (1, 'a', 1.5), (2, 'b', NULL)",
	    "UPDATE t SET f = 2 WHERE id = 1",
	    "DELETE FROM t WHERE id = 2",
	};
	assert(n == sizeof statements / sizeof statements[0]);
	struct kv *kv;
	FUZZ_REQUIRE(kvmem_open(&kv) == NULL);
	struct prng prng;
	prng_seed(&prng, 1);
	struct mvcc_options options = {.prng = &prng};
	FUZZ_REQUIRE(mvcc_open(kv, &options, &fuzz_wire_seed_store) == NULL);
	struct sql_host host = {.store = fuzz_wire_seed_store,
	                        .read_version = fuzz_wire_read_version};
	struct sql_session *session;
	FUZZ_REQUIRE(sql_session_new(&host, &session) == NULL);
	for (size_t i = 0; i < n; i++) {
		struct sql_result r;
		size_t used;
		FUZZ_REQUIRE(sql_session_step(session, statements[i], strlen(statements[i]), &r,
		                              &used) == SQL_STEP_COMMIT_PENDING);
		buf_init(&records[i], MVCC_RECORD_MAX_BYTES);
		FUZZ_REQUIRE(
		    mvcc_txn_encode_commit(sql_session_pending_txn(session), &records[i]) == NULL);
		struct mvcc_outcome outcome;
		uint64_t index = mvcc_applied_version(fuzz_wire_seed_store) + 1;
		FUZZ_REQUIRE(mvcc_apply(fuzz_wire_seed_store, records[i].data, records[i].len,
		                        index, &outcome) == NULL);
		sql_session_commit_done(session, &outcome, NULL, &r);
		FUZZ_REQUIRE(r.kind != SQL_RESULT_ERROR);
		sql_result_free(&r);
		fuzz_wire_seed(s, FUZZ_WIRE_RECORD, records[i].data, records[i].len);
		fuzz_wire_seed(s, FUZZ_WIRE_APPLY, records[i].data, records[i].len);
	}
	sql_session_close(session);
	mvcc_close(fuzz_wire_seed_store);
	fuzz_wire_seed_store = NULL;
	kv_close(kv);
}

static void fuzz_wire_seed_raft(struct fuzz_wire_seeder *s, const struct buf *records)
{
	struct raft_entry entries[2] = {
	    {.term = 3,
	     .type = RAFT_ENTRY_NORMAL,
	     .origin = 2,
	     .id = 7,
	     .data = records[1].data,
	     .len = records[1].len},
	    {.term = 3, .type = RAFT_ENTRY_NOOP},
	};
	struct buf b;
	buf_init(&b, FUZZ_WIRE_BUF_MAX);
	for (uint8_t type = RAFT_MSG_APPEND; type <= RAFT_MSG_TYPE_MAX; type++) {
		bool carries = type == RAFT_MSG_APPEND || type == RAFT_MSG_PROPOSE;
		struct raft_message m = {.type = type,
		                         .term = 3,
		                         .from = 1,
		                         .to = 2,
		                         .index = 5,
		                         .log_term = 2,
		                         .commit = 4,
		                         .reject = type % 2 == 0,
		                         .hint_index = 3,
		                         .hint_term = 1,
		                         .ctx = 1,
		                         .entries = carries ? entries : NULL,
		                         .n_entries = carries ? 2 : 0};
		buf_clear(&b);
		FUZZ_REQUIRE(raft_message_encode(&m, &b) == NULL);
		fuzz_wire_seed(s, FUZZ_WIRE_RAFT, b.data, b.len);
	}
	buf_free(&b);
}

static void fuzz_wire_seed_client(struct fuzz_wire_seeder *s)
{
	struct buf b;
	buf_init(&b, FUZZ_WIRE_BUF_MAX);
	static const char sql[] = "SELECT * FROM t WHERE id = 1";
	struct net_request req = {.kind = NET_REQ_EXECUTE,
	                          .text = {.ptr = (const uint8_t *)sql, .len = sizeof sql - 1}};
	FUZZ_REQUIRE(net_request_encode(&req, &b) == NULL);
	fuzz_wire_seed(s, FUZZ_WIRE_REQUEST, b.data, b.len);
	/* the same request framed twice, as a connection carries it */
	struct buf frames;
	buf_init(&frames, FUZZ_WIRE_BUF_MAX);
	for (int i = 0; i < 2; i++)
		FUZZ_REQUIRE(
		    net_frame_encode(&frames, b.data, b.len, NET_FRAME_MAX_REQUEST_BYTES) == NULL);
	fuzz_wire_seed(s, FUZZ_WIRE_FRAMES, frames.data, frames.len);
	buf_free(&frames);

	struct slice columns[2] = {{(const uint8_t *)"id", 2}, {(const uint8_t *)"v", 1}};
	struct net_value values[4] = {
	    {.type = NET_VALUE_INTEGER, .as.integer = -5},
	    {.type = NET_VALUE_TEXT, .as.text = {(const uint8_t *)"hello", 5}},
	    {.type = NET_VALUE_FLOAT, .as.real = 2.5},
	    {.type = NET_VALUE_BOOLEAN, .as.boolean = true},
	};
	struct net_response responses[] = {
	    {.kind = NET_RESP_ROWS,
	     .columns = columns,
	     .column_count = 2,
	     .values = values,
	     .row_count = 2},
	    net_response_count(3),
	    net_response_ack("Created table"),
	    net_response_error(ERR_CONSTRAINT, "duplicate primary key"),
	};
	for (size_t i = 0; i < sizeof responses / sizeof responses[0]; i++) {
		buf_clear(&b);
		FUZZ_REQUIRE(net_response_encode(&responses[i], &b) == NULL);
		fuzz_wire_seed(s, FUZZ_WIRE_RESPONSE, b.data, b.len);
	}
	buf_free(&b);
}

void fuzz_seeds(fuzz_add_fn *add, void *ctx)
{
	struct fuzz_wire_seeder s = {.add = add, .ctx = ctx};
	buf_init(&s.scratch, FUZZ_WIRE_BUF_MAX);
	struct buf records[4];
	fuzz_wire_seed_records(&s, records, 4);
	fuzz_wire_seed_raft(&s, records);
	fuzz_wire_seed_client(&s);
	static const uint8_t msgpack[] = {0x93, 0x01, 0xa1, 'x', 0x82, 0xc0, 0xc3, 0x01, 0xcb,
	                                  0x40, 0x04, 0,    0,   0,    0,    0,    0};
	fuzz_wire_seed(&s, FUZZ_WIRE_MSGPACK, msgpack, sizeof msgpack);
	static const char config[] = "# node 2 of three\nid = 2\nsql_listen = 9602\n"
	                             "peers = 1=127.0.0.1:9701, 2=127.0.0.1:9702, 3=9703\n"
	                             "data_dir = data/n2\nfsync = off\nlog_level = debug\n";
	fuzz_wire_seed(&s, FUZZ_WIRE_CONFIG, (const uint8_t *)config, sizeof config - 1);
	static const char flags[] = "--id\n3\n--sql-listen=127.0.0.1:9603\n--peers\n"
	                            "1=9701,2=9702,3=9703\n--data-dir\ndata/n3\n--fsync=on";
	fuzz_wire_seed(&s, FUZZ_WIRE_FLAGS, (const uint8_t *)flags, sizeof flags - 1);
	for (int i = 0; i < 4; i++)
		buf_free(&records[i]);
	buf_free(&s.scratch);
}

/* Msgpack headers that claim much or little: no NUL bytes, since tokens are C strings. */
const char *const fuzz_tokens[] = {
    "\xff",
    "\xc0",
    "\xc2",
    "\xc3",
    "\xcc\xff",
    "\xcd\xff\xff",
    "\xce\xff\xff\xff\xff",
    "\xcf\xff\xff\xff\xff\xff\xff\xff\xff",
    "\xd3\x80",
    "\xdc\xff\xff",
    "\xdd\xff\xff\xff\xff",
    "\xda\xff\xff",
    "\xdb\x7f\xff\xff\xff",
    "\xc4\x10",
    "\x9f",
    "\x8f",
    "\xbf",
    "\xcb\x7f\xf8",
    NULL,
};
