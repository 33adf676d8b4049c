#ifndef TESTS_SUPPORT_SERVER_H
#define TESTS_SUPPORT_SERVER_H
/*
 * Run the real cdlens binary (CDLENS_BIN) as a child process on a free loopback port.
 * test_server_start() waits until GET /readyz answers 200 (fails the test after 30 s).
 * The server's log goes to a file beside the test (printed when start fails).
 */
#include <sys/types.h>

struct test_server {
	pid_t pid;
	int port;
	char log_path[256];
};

/* Start `cdlens serve --database-url URL --listen 127.0.0.1:PORT` plus extra_args
 * (NULL-terminated, may be NULL). Ingest token: "test:test-secret-1" unless extra_args
 * set --ingest-tokens or --insecure-no-auth. */
void test_server_start(struct test_server *s, const char *db_url, const char *const *extra_args);
/* Start it the same way but return at once, without waiting for /readyz over plain HTTP:
 * for a server that must refuse to start, or one that serves HTTPS. */
void test_server_spawn(struct test_server *s, const char *db_url, const char *const *extra_args);
/* Wait at most timeout_s seconds (0: just look) for the server to exit by itself; returns
 * its exit status (or 128+signal), or -1 when it is still running. */
int test_server_wait_exit(struct test_server *s, int timeout_s);
/* SIGTERM and wait; returns the exit status (or 128+signal). Fails after 30 s. */
int test_server_stop(struct test_server *s);
/* The fixture most HTTP tests share: a fresh database from testdb_create(hint) and a server
 * on it started with test_server_start(). Returns the database's URL (malloc'ed; give it to
 * test_server_close()). */
char *test_server_open(struct test_server *s, const char *hint, const char *const *extra_args);
/* test_server_stop(), then free *db_url and set it to NULL; fails the test, printing the
 * server's log, unless the server exited 0 (with CDLENS_SANITIZE a sanitizer report makes the
 * exit status non-zero, and so does a crash). */
void test_server_close(struct test_server *s, char **db_url);
/* Send `sig` and return at once (test_server_wait_exit() reaps). */
void test_server_signal(const struct test_server *s, int sig);
/* SIGKILL and reap. */
void test_server_kill(struct test_server *s);
/* Wait until GET /readyz shows nothing waiting: no events queued for commit and none for the
 * correlator. Fails the test after timeout_s seconds. */
void test_server_wait_correlated(const struct test_server *s, int timeout_s);
/* A free TCP port on 127.0.0.1. */
int test_free_port(void);

#define TEST_TOKEN_HEADER "Authorization: Bearer test-secret-1\r\n"

#endif
