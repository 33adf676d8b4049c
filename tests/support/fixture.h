#ifndef TESTS_SUPPORT_FIXTURE_H
#define TESTS_SUPPORT_FIXTURE_H
/*
 * Test data files. Paths are relative to tests/data (CDLENS_TEST_DATA).
 * fixture_load() fails the test (cmocka fail_msg) when the file cannot be read.
 */
#include <stddef.h>

struct fixture {
	char *data; /* NUL-terminated; owned */
	size_t len;
};

struct fixture fixture_load(const char *relpath);
/* Read an absolute or relative path; returns 0 and fills *f, or -1. */
int fixture_read_path(const char *path, struct fixture *f);
void fixture_release(struct fixture *f);
/* List the regular files of tests/data/<reldir> whose names end in `suffix`, sorted.
 * Returns the count; *names is a malloc'ed array of malloc'ed names (free with fixture_names_free). */
size_t fixture_list(const char *reldir, const char *suffix, char ***names);
void fixture_names_free(char **names, size_t n);

#endif
