/*
 * ast.h — the abstract syntax tree of cairn's SQL: the contract between the parser and
 * the rest of the SQL engine (planner, executor, EXPLAIN, the REPL).
 *
 * Shape. Every node is a plain struct tagged by a `kind` enum; variants live in an
 * anonymous union named after the kind (`e->binary.left`, `s->insert.table`). Lists are
 * (pointer, count) pairs. Every node records where it started in the source text
 * (`struct sql_pos`, 1-based line and column in bytes) so later stages can report errors
 * with a position.
 *
 * Ownership. The whole tree of a statement, including every string in it, lives in one
 * `struct sql_arena` (arena.h) passed to the parser. Nodes are never freed one by one;
 * freeing the arena frees the statement. Consumers treat the tree as read-only.
 *
 * Names. Unquoted identifiers are normalized to lower case by the parser; "quoted"
 * identifiers keep their case (with "" unescaped to "). Function names are identifiers,
 * so `COUNT(*)` arrives as name "count" with `star` set. All strings are NUL-terminated.
 *
 * What the parser guarantees (so consumers need not re-check):
 *   - Pointers documented as non-NULL are non-NULL; counts match their arrays.
 *   - Expression nesting depth is at most SQL_MAX_DEPTH (parser.h) and every list has at
 *     most SQL_MAX_LIST_ITEMS items.
 *   - SQL_EXPR_DEFAULT only appears as a whole value in an INSERT ... VALUES row.
 *   - A compound select's `left` and `right` carry no ORDER BY / LIMIT / OFFSET of their
 *     own: those belong to the outermost select.
 * What it does NOT check (the planner's job): that names exist, types match, aggregates
 * are used legally, ORDER BY positions are in range, or that a literal fits a column.
 */
#ifndef CAIRN_SQL_AST_H
#define CAIRN_SQL_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sql_select;
struct sql_stmt;

/* A position in the source text: 1-based line and 1-based byte column. */
struct sql_pos {
	uint32_t line;
	uint32_t column;
};

/* ---------------------------------------------------------------- types -- */

/* The SQL column types. Every spelling the parser accepts maps to one of these. */
enum sql_type {
	SQL_TYPE_BOOLEAN = 1, /* BOOLEAN, BOOL */
	SQL_TYPE_INTEGER,     /* INTEGER, INT, BIGINT, SMALLINT, TINYINT: 64-bit */
	SQL_TYPE_FLOAT,       /* FLOAT, DOUBLE [PRECISION], REAL, DECIMAL[(p[,s])], NUMERIC */
	SQL_TYPE_STRING,      /* VARCHAR[(n)], CHAR[(n)], CHARACTER[(n)], TEXT, STRING */
};

/* A type as written in a column definition or a CAST. */
struct sql_type_name {
	enum sql_type type;
	uint32_t max_len; /* VARCHAR(n) / CHAR(n): n (>= 1); 0 when no length was given */
};

/* -------------------------------------------------------------- expressions -- */

enum sql_expr_kind {
	SQL_EXPR_NULL = 1,  /* NULL */
	SQL_EXPR_BOOL,      /* TRUE, FALSE: `boolean` */
	SQL_EXPR_INT,       /* integer literal: `integer` */
	SQL_EXPR_FLOAT,     /* float literal, or an integer literal too big for int64: `floating` */
	SQL_EXPR_STRING,    /* 'string' literal: `string` */
	SQL_EXPR_COLUMN,    /* col or table.col: `column` */
	SQL_EXPR_UNARY,     /* -x, +x, NOT x: `unary` */
	SQL_EXPR_BINARY,    /* x op y: `binary` */
	SQL_EXPR_IS_NULL,   /* x IS [NOT] NULL, x ISNULL, x NOTNULL, x NOT NULL: `is_null` */
	SQL_EXPR_IS,        /* x IS [NOT] y, a NULL-safe (in)equality: `is` */
	SQL_EXPR_LIKE,      /* x [NOT] LIKE pattern: `like` */
	SQL_EXPR_BETWEEN,   /* x [NOT] BETWEEN low AND high: `between` */
	SQL_EXPR_IN_LIST,   /* x [NOT] IN (a, b, ...), possibly empty: `in_list` */
	SQL_EXPR_IN_SELECT, /* x [NOT] IN (SELECT ...): `in_select` */
	SQL_EXPR_EXISTS,    /* EXISTS (SELECT ...); NOT EXISTS is a NOT around it: `exists` */
	SQL_EXPR_SUBQUERY,  /* (SELECT ...) used as a scalar: `subquery` */
	SQL_EXPR_CASE,      /* CASE [operand] WHEN ... THEN ... [ELSE ...] END: `case_` */
	SQL_EXPR_CAST,      /* CAST(x AS type): `cast` */
	SQL_EXPR_FUNCTION,  /* name([DISTINCT] args), name(*): `function` */
	SQL_EXPR_DEFAULT,   /* DEFAULT as a value in INSERT ... VALUES: no payload */
};

enum sql_unary_op {
	SQL_UNARY_NEG = 1, /* -x */
	SQL_UNARY_PLUS,    /* +x (kept so EXPLAIN and round trips show what was written) */
	SQL_UNARY_NOT,     /* NOT x */
};

enum sql_binary_op {
	SQL_BINARY_OR = 1,
	SQL_BINARY_AND,
	SQL_BINARY_EQ, /* = and == */
	SQL_BINARY_NE, /* != and <> */
	SQL_BINARY_LT,
	SQL_BINARY_LE,
	SQL_BINARY_GT,
	SQL_BINARY_GE,
	SQL_BINARY_ADD,
	SQL_BINARY_SUB,
	SQL_BINARY_MUL,
	SQL_BINARY_DIV,
	SQL_BINARY_MOD,
	SQL_BINARY_CONCAT, /* || */
};

struct sql_expr;

struct sql_expr_list {
	struct sql_expr **items;
	uint32_t count;
};

/* One WHEN ... THEN ... arm of a CASE. */
struct sql_case_when {
	struct sql_expr *when; /* non-NULL */
	struct sql_expr *then; /* non-NULL */
};

struct sql_expr {
	enum sql_expr_kind kind;
	struct sql_pos pos;
	union {
		bool boolean;
		int64_t integer; /* -9223372036854775808 is folded into one literal */
		double floating; /* finite or +infinity (1e999); never NaN or negative */
		struct {
			const char *ptr; /* NUL-terminated; '' already unescaped */
			size_t len;      /* bytes, may contain NUL only if the source did */
		} string;
		struct {
			const char *table; /* NULL when unqualified */
			const char *name;  /* non-NULL */
		} column;
		struct {
			enum sql_unary_op op;
			struct sql_expr *operand; /* non-NULL */
		} unary;
		struct {
			enum sql_binary_op op;
			struct sql_expr *left, *right; /* non-NULL */
		} binary;
		struct {
			struct sql_expr *operand; /* non-NULL */
			bool negated;             /* IS NOT NULL / NOTNULL / NOT NULL */
		} is_null;
		struct {
			struct sql_expr *left,
			    *right;   /* non-NULL; right is never the NULL literal */
			bool negated; /* IS NOT */
		} is;
		struct {
			struct sql_expr *operand, *pattern; /* non-NULL */
			bool negated;
		} like;
		struct {
			struct sql_expr *operand, *low, *high; /* non-NULL */
			bool negated;
		} between;
		struct {
			struct sql_expr *operand; /* non-NULL */
			struct sql_expr_list list;
			bool negated;
		} in_list;
		struct {
			struct sql_expr *operand;  /* non-NULL */
			struct sql_select *select; /* non-NULL */
			bool negated;
		} in_select;
		struct {
			struct sql_select *select; /* non-NULL */
		} exists;
		struct {
			struct sql_select *select; /* non-NULL */
		} subquery;
		struct {
			struct sql_expr
			    *operand; /* NULL for a searched CASE (CASE WHEN cond ...) */
			struct sql_case_when *whens; /* at least one */
			uint32_t when_count;
			struct sql_expr *else_result; /* NULL when there is no ELSE */
		} case_;
		struct {
			struct sql_expr *operand; /* non-NULL */
			struct sql_type_name type;
		} cast;
		struct {
			const char *name;          /* lower case unless quoted */
			struct sql_expr_list args; /* empty for name() and name(*) */
			bool distinct;             /* name(DISTINCT x); ALL is the default */
			bool star;                 /* name(*) */
		} function;
	};
};

/* ------------------------------------------------------------------ SELECT -- */

enum sql_select_item_kind {
	SQL_ITEM_EXPR = 1,   /* expr [[AS] alias] */
	SQL_ITEM_STAR,       /* * */
	SQL_ITEM_TABLE_STAR, /* table.* */
};

struct sql_select_item {
	enum sql_select_item_kind kind;
	struct sql_pos pos;
	struct sql_expr *expr; /* SQL_ITEM_EXPR: non-NULL; otherwise NULL */
	const char *alias;     /* SQL_ITEM_EXPR: NULL when none given */
	const char *table;     /* SQL_ITEM_TABLE_STAR: the table; otherwise NULL */
};

enum sql_from_kind {
	SQL_FROM_TABLE = 1, /* name [[AS] alias]: `table` */
	SQL_FROM_SUBQUERY,  /* (SELECT ...) [AS] alias: `subquery` */
	SQL_FROM_JOIN,      /* left JOIN right: `join` */
};

enum sql_join_kind {
	SQL_JOIN_CROSS = 1, /* `a, b` and `a CROSS JOIN b`: no ON */
	SQL_JOIN_INNER,     /* [INNER] JOIN ... ON */
	SQL_JOIN_LEFT,      /* LEFT [OUTER] JOIN ... ON */
	SQL_JOIN_RIGHT,     /* RIGHT [OUTER] JOIN ... ON */
};

/* A FROM clause is one tree of these; joins are left-associative: a JOIN b JOIN c is
 * ((a JOIN b) JOIN c). */
struct sql_from {
	enum sql_from_kind kind;
	struct sql_pos pos;
	union {
		struct {
			const char *name;  /* non-NULL */
			const char *alias; /* NULL when none given */
		} table;
		struct {
			struct sql_select *select; /* non-NULL */
			const char *alias; /* NULL when none given (allowed, as in SQLite) */
		} subquery;
		struct {
			enum sql_join_kind kind;
			struct sql_from *left, *right; /* non-NULL */
			struct sql_expr *on;           /* NULL exactly for SQL_JOIN_CROSS */
			bool comma;                    /* CROSS written as `a, b` */
		} join;
	};
};

enum sql_nulls_order {
	SQL_NULLS_DEFAULT = 0, /* no NULLS clause: NULLs sort first ascending, as in SQLite */
	SQL_NULLS_FIRST,
	SQL_NULLS_LAST,
};

/* ORDER BY item. An integer literal expression is a column position (1-based); the
 * planner decides, the parser just keeps the literal. */
struct sql_order_item {
	struct sql_expr *expr; /* non-NULL */
	bool desc;
	enum sql_nulls_order nulls;
};

enum sql_select_kind {
	SQL_SELECT_CORE = 1, /* SELECT ... FROM ... WHERE ... GROUP BY ... HAVING ... */
	SQL_SELECT_COMPOUND, /* left UNION/INTERSECT/EXCEPT right */
};

enum sql_compound_op {
	SQL_COMPOUND_UNION = 1,
	SQL_COMPOUND_UNION_ALL,
	SQL_COMPOUND_INTERSECT,
	SQL_COMPOUND_EXCEPT,
};

/*
 * A query. Compound selects are left-associative (a UNION b EXCEPT c is
 * ((a UNION b) EXCEPT c)); `right` is always a core select. ORDER BY, LIMIT and OFFSET
 * are valid on both kinds and apply to the whole query.
 */
struct sql_select {
	enum sql_select_kind kind;
	struct sql_pos pos;

	/* SQL_SELECT_CORE */
	bool distinct;                 /* SELECT DISTINCT; SELECT ALL is the default */
	struct sql_select_item *items; /* at least one */
	uint32_t item_count;
	struct sql_from *from;         /* NULL without FROM */
	struct sql_expr *where;        /* NULL without WHERE */
	struct sql_expr_list group_by; /* empty without GROUP BY */
	struct sql_expr *having;       /* NULL without HAVING */

	/* SQL_SELECT_COMPOUND */
	enum sql_compound_op op;
	struct sql_select *left, *right;

	/* both kinds */
	struct sql_order_item *order_by; /* NULL when order_count == 0 */
	uint32_t order_count;
	struct sql_expr *limit;  /* NULL without LIMIT */
	struct sql_expr *offset; /* NULL without OFFSET (only allowed after LIMIT) */
};

/* -------------------------------------------------------------- statements -- */

struct sql_column_def {
	struct sql_pos pos;
	const char *name;
	struct sql_type_name type;
	bool primary_key;               /* PRIMARY KEY */
	bool not_null;                  /* NOT NULL */
	bool nullable;                  /* NULL written explicitly (never with not_null) */
	bool unique;                    /* UNIQUE */
	struct sql_expr *default_value; /* DEFAULT expr, or NULL */
	const char *references_table;   /* REFERENCES t [(col)], or NULL */
	const char *references_column;  /* NULL when no (col) was given: the primary key */
};

enum sql_table_constraint_kind {
	SQL_CONSTRAINT_PRIMARY_KEY = 1, /* PRIMARY KEY (cols) */
	SQL_CONSTRAINT_UNIQUE,          /* UNIQUE (cols) */
	SQL_CONSTRAINT_FOREIGN_KEY,     /* FOREIGN KEY (cols) REFERENCES t [(cols)] */
};

struct sql_name_list {
	const char **names;
	uint32_t count;
};

struct sql_table_constraint {
	enum sql_table_constraint_kind kind;
	struct sql_pos pos;
	struct sql_name_list columns;     /* at least one */
	const char *references_table;     /* FOREIGN KEY only */
	struct sql_name_list ref_columns; /* FOREIGN KEY only; empty = the primary key */
};

struct sql_index_column {
	struct sql_pos pos;
	const char *name;
	bool desc;
};

enum sql_insert_source {
	SQL_INSERT_VALUES = 1,     /* VALUES (...), (...) */
	SQL_INSERT_SELECT,         /* SELECT ... */
	SQL_INSERT_DEFAULT_VALUES, /* DEFAULT VALUES */
};

struct sql_assignment {
	struct sql_pos pos;
	const char *column;
	struct sql_expr *value; /* non-NULL */
};

enum sql_stmt_kind {
	SQL_STMT_CREATE_TABLE = 1,
	SQL_STMT_DROP_TABLE,
	SQL_STMT_CREATE_INDEX,
	SQL_STMT_DROP_INDEX,
	SQL_STMT_INSERT,
	SQL_STMT_UPDATE,
	SQL_STMT_DELETE,
	SQL_STMT_SELECT,
	SQL_STMT_BEGIN,
	SQL_STMT_COMMIT,
	SQL_STMT_ROLLBACK,
	SQL_STMT_EXPLAIN,
};

struct sql_stmt {
	enum sql_stmt_kind kind;
	struct sql_pos pos;
	size_t text_start; /* byte offset of the first token in the parsed text */
	size_t text_end;   /* byte offset just past the last token (before any ';') */
	union {
		struct {
			const char *name;
			bool if_not_exists;
			struct sql_column_def *columns; /* at least one */
			uint32_t column_count;
			struct sql_table_constraint *constraints;
			uint32_t constraint_count;
		} create_table;
		struct {
			const char *name;
			bool if_exists;
		} drop_table;
		struct {
			const char *name;
			const char *table;
			bool unique;
			bool if_not_exists;
			struct sql_index_column *columns; /* at least one */
			uint32_t column_count;
		} create_index;
		struct {
			const char *name;
			bool if_exists;
		} drop_index;
		struct {
			const char *table;
			struct sql_name_list columns; /* empty when no column list was given */
			enum sql_insert_source source;
			struct sql_expr_list *rows; /* SQL_INSERT_VALUES: row_count rows */
			uint32_t row_count;
			struct sql_select *select; /* SQL_INSERT_SELECT */
		} insert;
		struct {
			const char *table;
			struct sql_assignment *set; /* at least one */
			uint32_t set_count;
			struct sql_expr *where; /* NULL without WHERE */
		} update;
		struct {
			const char *table;
			struct sql_expr *where; /* NULL without WHERE */
		} delete_;
		struct sql_select *select;
		struct {
			bool read_only;  /* READ ONLY */
			bool read_write; /* READ WRITE written explicitly (never with read_only) */
			bool has_as_of;  /* AS OF SYSTEM TIME n */
			uint64_t as_of;  /* n, a non-negative integer literal */
		} begin;
		struct sql_stmt *explain; /* the explained statement; never itself EXPLAIN */
	};
};

struct sql_stmt_list {
	struct sql_stmt **items;
	uint32_t count;
};

/* -------------------------------------------------------------- helpers -- */

/*
 * How tightly operators bind, lowest first: SQLite's levels. The parser parses with them
 * and the formatter parenthesizes with them, so the two cannot disagree.
 */
enum sql_precedence {
	SQL_PREC_ANY = 0,
	SQL_PREC_OR,     /* OR */
	SQL_PREC_AND,    /* AND */
	SQL_PREC_NOT,    /* prefix NOT */
	SQL_PREC_EQ,     /* = <> IS IN LIKE BETWEEN ISNULL NOTNULL */
	SQL_PREC_CMP,    /* < <= > >= */
	SQL_PREC_ADD,    /* + - */
	SQL_PREC_MUL,    /* * / % */
	SQL_PREC_CONCAT, /* || */
	SQL_PREC_UNARY,  /* prefix - + */
	SQL_PREC_ATOM,   /* literals, names, calls, CASE, CAST, subqueries */
};

/* The precedence level of a binary operator. */
enum sql_precedence sql_binary_op_precedence(enum sql_binary_op op);

/* The SQL spelling of an operator: "-", "NOT", "<>" (for NE), "||", "AND", ... */
const char *sql_unary_op_text(enum sql_unary_op op);
const char *sql_binary_op_text(enum sql_binary_op op);

/* The canonical name of a type: "BOOLEAN", "INTEGER", "FLOAT" or "TEXT". */
const char *sql_type_text(enum sql_type type);

/* The name of a node kind for messages and tests: "binary", "create table", ... */
const char *sql_expr_kind_name(enum sql_expr_kind kind);
const char *sql_stmt_kind_name(enum sql_stmt_kind kind);

#endif
