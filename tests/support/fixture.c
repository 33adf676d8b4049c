/* tests/support/fixture.c: read files under tests/data for table-driven tests. */
#include "support/fixture.h"

#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/buf.h"
#include "core/xalloc.h"

int fixture_read_path(const char *path, struct fixture *f)
{
	FILE *fp = fopen(path, "rb");
	struct buf b = BUF_INIT(0);
	char chunk[65536];
	size_t n;

	if (!fp)
		return -1;
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		buf_append(&b, chunk, n);
	fclose(fp);
	f->data = buf_detach(&b, &f->len);
	return 0;
}

struct fixture fixture_load(const char *relpath)
{
	char path[4096];
	struct fixture f = {0};

	snprintf(path, sizeof path, "%s/%s", CDLENS_TEST_DATA, relpath);
	if (fixture_read_path(path, &f) != 0)
		fail_msg("could not read fixture %s", path);
	return f;
}

void fixture_release(struct fixture *f)
{
	free(f->data);
	f->data = NULL;
	f->len = 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t fixture_list(const char *reldir, const char *suffix, char ***names)
{
	char path[4096];
	size_t n = 0, cap = 16, slen = strlen(suffix);
	char **out = xmalloc(cap * sizeof *out);

	snprintf(path, sizeof path, "%s/%s", CDLENS_TEST_DATA, reldir);
	DIR *d = opendir(path);
	if (!d)
		fail_msg("could not open fixture directory %s", path);
	for (struct dirent *e; (e = readdir(d));) {
		size_t len = strlen(e->d_name);
		if (e->d_name[0] == '.' || len < slen || strcmp(e->d_name + len - slen, suffix))
			continue;
		if (n == cap)
			out = xrealloc(out, (cap *= 2) * sizeof *out);
		out[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	qsort(out, n, sizeof *out, cmp_names);
	*names = out;
	return n;
}

void fixture_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}
