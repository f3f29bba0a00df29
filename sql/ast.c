/*
 * ast.c — names and spellings of AST node kinds and operators.
 *
 * The tables are indexed by the enums of ast.h; each function asserts its argument is
 * in range, because an out-of-range kind means a corrupted tree, not bad input.
 */
#include "sql/ast.h"

#include <assert.h>

const char *sql_unary_op_text(enum sql_unary_op op)
{
	switch (op) {
	case SQL_UNARY_NEG: return "-";
	case SQL_UNARY_PLUS: return "+";
	case SQL_UNARY_NOT: return "NOT";
	}
	assert(!"unknown unary operator");
	return "?";
}

const char *sql_binary_op_text(enum sql_binary_op op)
{
	static const char *const text[] = {
	    [SQL_BINARY_OR] = "OR", [SQL_BINARY_AND] = "AND",   [SQL_BINARY_EQ] = "=",
	    [SQL_BINARY_NE] = "<>", [SQL_BINARY_LT] = "<",      [SQL_BINARY_LE] = "<=",
	    [SQL_BINARY_GT] = ">",  [SQL_BINARY_GE] = ">=",     [SQL_BINARY_ADD] = "+",
	    [SQL_BINARY_SUB] = "-", [SQL_BINARY_MUL] = "*",     [SQL_BINARY_DIV] = "/",
	    [SQL_BINARY_MOD] = "%", [SQL_BINARY_CONCAT] = "||",
	};
	assert(op >= SQL_BINARY_OR && op <= SQL_BINARY_CONCAT);
	return text[op];
}

enum sql_precedence sql_binary_op_precedence(enum sql_binary_op op)
{
	switch (op) {
	case SQL_BINARY_OR: return SQL_PREC_OR;
	case SQL_BINARY_AND: return SQL_PREC_AND;
	case SQL_BINARY_EQ:
	case SQL_BINARY_NE: return SQL_PREC_EQ;
	case SQL_BINARY_LT:
	case SQL_BINARY_LE:
	case SQL_BINARY_GT:
	case SQL_BINARY_GE: return SQL_PREC_CMP;
	case SQL_BINARY_ADD:
	case SQL_BINARY_SUB: return SQL_PREC_ADD;
	case SQL_BINARY_MUL:
	case SQL_BINARY_DIV:
	case SQL_BINARY_MOD: return SQL_PREC_MUL;
	case SQL_BINARY_CONCAT: return SQL_PREC_CONCAT;
	}
	assert(!"unknown binary operator");
	return SQL_PREC_ANY;
}

const char *sql_type_text(enum sql_type type)
{
	switch (type) {
	case SQL_TYPE_BOOLEAN: return "BOOLEAN";
	case SQL_TYPE_INTEGER: return "INTEGER";
	case SQL_TYPE_FLOAT: return "FLOAT";
	case SQL_TYPE_STRING: return "TEXT";
	}
	assert(!"unknown type");
	return "?";
}

const char *sql_expr_kind_name(enum sql_expr_kind kind)
{
	static const char *const names[] = {
	    [SQL_EXPR_NULL] = "null",         [SQL_EXPR_BOOL] = "boolean",
	    [SQL_EXPR_INT] = "integer",       [SQL_EXPR_FLOAT] = "float",
	    [SQL_EXPR_STRING] = "string",     [SQL_EXPR_COLUMN] = "column",
	    [SQL_EXPR_UNARY] = "unary",       [SQL_EXPR_BINARY] = "binary",
	    [SQL_EXPR_IS_NULL] = "is null",   [SQL_EXPR_IS] = "is",
	    [SQL_EXPR_LIKE] = "like",         [SQL_EXPR_BETWEEN] = "between",
	    [SQL_EXPR_IN_LIST] = "in list",   [SQL_EXPR_IN_SELECT] = "in select",
	    [SQL_EXPR_EXISTS] = "exists",     [SQL_EXPR_SUBQUERY] = "subquery",
	    [SQL_EXPR_CASE] = "case",         [SQL_EXPR_CAST] = "cast",
	    [SQL_EXPR_FUNCTION] = "function", [SQL_EXPR_DEFAULT] = "default",
	};
	assert(kind >= SQL_EXPR_NULL && kind <= SQL_EXPR_DEFAULT);
	return names[kind];
}

const char *sql_stmt_kind_name(enum sql_stmt_kind kind)
{
	static const char *const names[] = {
	    [SQL_STMT_CREATE_TABLE] = "create table",
	    [SQL_STMT_DROP_TABLE] = "drop table",
	    [SQL_STMT_CREATE_INDEX] = "create index",
	    [SQL_STMT_DROP_INDEX] = "drop index",
	    [SQL_STMT_INSERT] = "insert",
	    [SQL_STMT_UPDATE] = "update",
	    [SQL_STMT_DELETE] = "delete",
	    [SQL_STMT_SELECT] = "select",
	    [SQL_STMT_BEGIN] = "begin",
	    [SQL_STMT_COMMIT] = "commit",
	    [SQL_STMT_ROLLBACK] = "rollback",
	    [SQL_STMT_EXPLAIN] = "explain",
	};
	assert(kind >= SQL_STMT_CREATE_TABLE && kind <= SQL_STMT_EXPLAIN);
	return names[kind];
}
