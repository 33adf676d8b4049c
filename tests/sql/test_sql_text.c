/*
 * tests/sql/test_sql_text.c: no SQL text is built at run time (issue 6: "SQL is parameterized
 * everywhere; no query text is built from input").
 *
 * Every statement cdlens sends goes through sql/db.c (db_query, db_query_prepared,
 * db_query_binary, db_exec); values travel as parameters ($1, $2, ...). This test reads the
 * sources (from the source tree, at test time, so a new call is checked as soon as it is
 * written) and requires the SQL argument of every such call to be fixed at compile time:
 * a string literal (possibly with macros pasted in), or a `static const char NAME[]` of the
 * same file (whose initializer C requires to be constant), or a choice between two of those.
 * A `char *`, a `struct buf` or a formatted string as SQL fails the test.
 * Outside this rule, by design: sql/db.c itself (its session settings are formatted from a
 * number in the configuration) and sql/migrate.c's `m->sql` (migrations embedded at build
 * time from sql/migrations/).
 */
#include <ctype.h>
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "support/fixture.h"

/* Every .c file of these folders is read (a new file is checked without a change here). */
static const char *const folders[] = {"core", "sql", "ingest", "correlate", "metrics", "web"};

static const char *const calls[] = {"db_query(", "db_query_prepared(", "db_query_binary(",
				    "db_exec("};

/* Functions that take SQL text as a parameter and forward it to sql/db.c: their calls are
 * checked like the calls above (argument `arg`), and their forwarding call is allowed. A
 * new wrapper fails the test until it is listed here. */
static const struct wrapper {
	const char *file, *call, *param;
	int arg;
} wrappers[] = {
	{"sql/correlate_store.c", "run(", "sql", 1},
	{"sql/trace_store.c", "one_row(", "sql", 1},
	{"sql/trace_store.c", "seed_run(", "sql", 1},
	{"sql/trace_store.c", "section(", "sql", 1},
};

/* Whether the function whose text starts at `fn` (its signature first) is a listed wrapper
 * of `file` that takes its SQL as parameter `name`. */
static bool listed_wrapper(const char *file, const char *fn, const char *name)
{
	const char *body = fn + strcspn(fn, "{");

	for (size_t w = 0; w < sizeof wrappers / sizeof *wrappers; w++) {
		if (strcmp(wrappers[w].file, file) != 0 || strcmp(wrappers[w].param, name) != 0)
			continue;
		for (const char *at = strstr(fn, wrappers[w].call); at && at < body;
		     at = strstr(at + 1, wrappers[w].call))
			if (at[-1] == ' ' || at[-1] == '*') /* "static T name(" or "static T *name(" */
				return true;
	}
	return false;
}

/* Copy the n-th (0-based) top-level argument of the call whose '(' is at `open` into out;
 * false when the call has fewer arguments (a mention in a comment: "db_exec()"). */
static bool argument(const char *open, int n, char *out, size_t cap)
{
	const char *p = open + 1, *start = p;
	int depth = 0, k = 0;
	bool quoted = false;

	for (; *p; p++) {
		if (quoted) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '"')
				quoted = false;
			continue;
		}
		if (*p == '"')
			quoted = true;
		else if (*p == '(')
			depth++;
		else if ((*p == ',' || *p == ')') && depth == 0) {
			if (k == n) {
				while (start < p && isspace((unsigned char)*start))
					start++;
				size_t len = (size_t)(p - start);
				while (len && isspace((unsigned char)start[len - 1]))
					len--;
				snprintf(out, cap, "%.*s", (int)len, start);
				return len > 0;
			}
			if (*p == ')')
				return false;
			k++;
			start = p + 1;
		} else if (*p == ')')
			depth--;
	}
	return false;
}

static bool identifier(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

static bool contains(const char *text, const char *fmt, const char *name)
{
	char pattern[160];

	snprintf(pattern, sizeof pattern, fmt, name);
	return strstr(text, pattern) != NULL;
}

/* NAME is a `static const char NAME[]` of the file, and no variable of that name is a
 * pointer or a buffer. */
static bool constant_array(const char *text, const char *name)
{
	return contains(text, "static const char %s[]", name) &&
	       !contains(text, "char *%s =", name) && !contains(text, "char *%s;", name) &&
	       !contains(text, "struct buf %s", name);
}

/* NAME is a parameter `const char *NAME` of a function of the file. */
static bool parameter(const char *text, const char *name)
{
	return contains(text, "char *%s,", name) || contains(text, "char *%s)", name);
}

static bool fixed_text(const char *text, const char *arg)
{
	char a[128], b[128];

	if (arg[0] == '"')
		return true;
	if (identifier(arg))
		return constant_array(text, arg);
	/* NAME[i]: an element of a `static const char *const NAME[]` of constant arrays */
	if (sscanf(arg, "%127[A-Za-z0-9_][", a) == 1 && arg[strlen(a)] == '[')
		return contains(text, "static const char *const %s[]", a);
	/* cond ? A : B */
	const char *q = strchr(arg, '?'), *c = q ? strchr(q, ':') : NULL;
	if (!q || !c || sscanf(q + 1, " %127[A-Za-z0-9_]", a) != 1 ||
	    sscanf(c + 1, " %127[A-Za-z0-9_]", b) != 1)
		return false;
	return constant_array(text, a) && constant_array(text, b);
}

/* NAME is a `const char *NAME` of the function between `fn` and `end` whose every
 * assignment (its initializer included) is fixed text: a choice among constants. */
static bool chosen_constant(const char *text, const char *fn, const char *end, const char *name)
{
	char pattern[600], rhs[256];
	int assignments = 0;

	snprintf(pattern, sizeof pattern, "%s = ", name);
	for (const char *at = strstr(fn, pattern); at && at < end; at = strstr(at + 1, pattern)) {
		if (isalnum((unsigned char)at[-1]) || at[-1] == '_')
			continue;
		const char *v = at + strlen(pattern);
		snprintf(rhs, sizeof rhs, "%.*s", (int)strcspn(v, ";"), v);
		if (!fixed_text(text, rhs))
			return false;
		assignments++;
	}
	return assignments > 0;
}

/* Check each call in one source file; returns how many were checked. */
static int check_file(const char *folder, const char *name)
{
	char path[512], shown[256];
	struct fixture src;
	int checked = 0;

	snprintf(path, sizeof path, "%s/%s/%s", CDLENS_SOURCE_DIR, folder, name);
	snprintf(shown, sizeof shown, "%s/%s", folder, name);
	if (strcmp(shown, "sql/db.c") == 0)
		return 0; /* the wrappers themselves */
	if (fixture_read_path(path, &src) != 0)
		fail_msg("cannot read %s", path);
	/* the calls to check: sql/db.c's, and this file's wrappers */
	struct to_check {
		const char *call;
		int arg;
	} list[sizeof calls / sizeof *calls + sizeof wrappers / sizeof *wrappers];
	size_t n = 0;
	for (size_t c = 0; c < sizeof calls / sizeof *calls; c++)
		list[n++] = (struct to_check){calls[c], 1};
	for (size_t w = 0; w < sizeof wrappers / sizeof *wrappers; w++)
		if (strcmp(wrappers[w].file, shown) == 0)
			list[n++] = (struct to_check){wrappers[w].call, wrappers[w].arg};
	for (size_t c = 0; c < n; c++) {
		for (const char *p = strstr(src.data, list[c].call); p; p = strstr(p + 1, list[c].call)) {
			char sql[512];
			if (p > src.data && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))
				continue; /* another function whose name ends the same */
			char first[128];
			if (!argument(p + strlen(list[c].call) - 1, list[c].arg, sql, sizeof sql))
				continue; /* a mention, not a call */
			if (argument(p + strlen(list[c].call) - 1, 0, first, sizeof first) &&
			    strncmp(first, "struct ", 7) == 0)
				continue; /* the function's definition or declaration */
			checked++;
			if (strcmp(shown, "sql/migrate.c") == 0 && strcmp(sql, "m->sql") == 0)
				continue;
			/* the enclosing function, from its signature up to the call */
			const char *fn = p;
			while (fn > src.data && !(fn[0] == '\n' && fn[1] == '}'))
				fn--;
			size_t len = (size_t)(p - fn);
			char *region = strndup(fn, len);
			bool local = identifier(sql) && constant_array(region, sql);
			bool forwards = identifier(sql) && !local && parameter(region, sql);
			bool listed = forwards && listed_wrapper(shown, region, sql);
			free(region);
			if (listed)
				continue; /* a listed wrapper passing its parameter on */
			if (forwards)
				fail_msg("%s: %.*s forwards its parameter %s as SQL: list the function "
					 "in wrappers[] so that its calls are checked",
					 shown, (int)strcspn(p, "\n"), p, sql);
			if (!local && identifier(sql) && chosen_constant(src.data, fn, p, sql))
				continue;
			if (!local && !fixed_text(src.data, sql))
				fail_msg("%s: %.*s sends SQL \"%s\", which is not fixed at compile time",
					 shown, (int)strcspn(p, "\n"), p, sql);
		}
	}
	fixture_release(&src);
	return checked;
}

static void every_statement_is_fixed_text(void **state)
{
	(void)state;
	int checked = 0;

	for (size_t f = 0; f < sizeof folders / sizeof *folders; f++) {
		char path[512];
		snprintf(path, sizeof path, "%s/%s", CDLENS_SOURCE_DIR, folders[f]);
		DIR *d = opendir(path);
		if (!d)
			fail_msg("cannot list %s", path);
		for (struct dirent *e; (e = readdir(d));) {
			size_t n = strlen(e->d_name);
			if (n > 2 && strcmp(e->d_name + n - 2, ".c") == 0)
				checked += check_file(folders[f], e->d_name);
		}
		closedir(d);
	}
	/* the calls are really found (a broken scan would pass vacuously) */
	printf("%d calls checked\n", checked);
	assert_true(checked >= 60);
}

/* The checker itself: it accepts the fixed forms and refuses the built ones. */
static void the_check_refuses_built_text(void **state)
{
	(void)state;
	const char *text = "static const char a_sql[] = \"SELECT 1\";\n"
			   "static const char b_sql[] = \"SELECT 2\";\n"
			   "char *built = buf_cstr(&b);\nstruct buf q;\n";
	char arg[64];

	assert_true(fixed_text(text, "\"SELECT $1\""));
	assert_true(fixed_text(text, "a_sql"));
	assert_true(fixed_text(text, "fast ? a_sql : b_sql"));
	assert_false(fixed_text(text, "built"));
	assert_false(fixed_text(text, "q"));
	assert_false(fixed_text(text, "buf_cstr(&q)"));
	assert_false(fixed_text(text, "fast ? a_sql : built"));
	assert_false(fixed_text(text, "unknown_sql"));
	assert_false(fixed_text(text, "all[i]"));
	assert_true(fixed_text("static const char *const all[] = {a_sql};", "all[i]"));
	assert_true(parameter("static int run(struct db_conn *c, const char *sql, int n)", "sql"));
	assert_false(parameter("static const char sql[] = \"SELECT 1\";", "sql"));

	const char *chosen = "static const char a_sql[] = \"1\"; static const char b_sql[] = \"2\";"
			     "f() { const char *sql = a_sql; if (x) sql = b_sql; db_query(conn, sql";
	const char *built = "static const char a_sql[] = \"1\";"
			    "f() { const char *sql = a_sql; if (x) sql = buf_cstr(&q); db_query(conn, sql";
	assert_true(chosen_constant(chosen, chosen, chosen + strlen(chosen), "sql"));
	assert_false(chosen_constant(built, built, built + strlen(built), "sql"));

	assert_true(argument("(conn, fast ? a : f(x, y), 2)", 1, arg, sizeof arg));
	assert_string_equal(arg, "fast ? a : f(x, y)");
	assert_true(argument("(conn,\n\t\"a, (b\" \"c\", 0)", 1, arg, sizeof arg));
	assert_string_equal(arg, "\"a, (b\" \"c\"");
	assert_false(argument("()", 1, arg, sizeof arg));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_check_refuses_built_text),
		cmocka_unit_test(every_statement_is_fixed_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
