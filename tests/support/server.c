/* tests/support/server.c: the cdlens server as a child process (see server.h). */
#include "support/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "support/http.h"
#include "support/testdb.h"

int test_free_port(void)
{
	struct sockaddr_in addr = {.sin_family = AF_INET};
	socklen_t len = sizeof addr;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
	    getsockname(fd, (struct sockaddr *)&addr, &len) != 0)
		fail_msg("could not find a free port");
	close(fd);
	return ntohs(addr.sin_port);
}

static void print_log(const struct test_server *s)
{
	char line[1024];
	FILE *f = fopen(s->log_path, "r");

	if (!f)
		return;
	fprintf(stderr, "---- server log %s ----\n", s->log_path);
	while (fgets(line, sizeof line, f))
		fputs(line, stderr);
	fclose(f);
}

static bool has_auth_arg(const char *const *extra)
{
	for (; extra && *extra; extra++)
		if (!strncmp(*extra, "--ingest-tokens", 15) || !strcmp(*extra, "--insecure-no-auth"))
			return true;
	return false;
}

static void exec_server(const struct test_server *s, const char *db_url, const char *const *extra)
{
	char listen[32];
	const char *argv[64] = {CDLENS_BIN, "serve", "--database-url", db_url, "--listen", listen};
	int n = 6;

	snprintf(listen, sizeof listen, "127.0.0.1:%d", s->port);
	if (!has_auth_arg(extra))
		argv[n++] = "--ingest-tokens=test:test-secret-1";
	for (; extra && *extra && n < 63; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	int fd = open(s->log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
	dup2(fd, STDERR_FILENO);
	dup2(fd, STDOUT_FILENO);
	execv(CDLENS_BIN, (char *const *)argv);
	_exit(127);
}

void test_server_spawn(struct test_server *s, const char *db_url, const char *const *extra_args)
{
	s->port = test_free_port();
	snprintf(s->log_path, sizeof s->log_path, "server-%d-%d.log", (int)getpid(), s->port);
	unlink(s->log_path);
	s->pid = fork();
	if (s->pid == 0)
		exec_server(s, db_url, extra_args);
}

int test_server_wait_exit(struct test_server *s, int timeout_s)
{
	int status = 0;

	for (int i = 0;; i++) {
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			s->pid = 0;
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		if (i >= timeout_s * 10)
			return -1;
		nanosleep(&(struct timespec){.tv_nsec = 100000000}, NULL);
	}
}

void test_server_start(struct test_server *s, const char *db_url, const char *const *extra_args)
{
	test_server_spawn(s, db_url, extra_args);
	for (int i = 0; i < 300; i++) {
		struct http_response r;
		int status = http_request(s->port, "GET", "/readyz", NULL, NULL, 0, &r);
		http_response_release(&r);
		if (status == 200)
			return;
		if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
			print_log(s);
			fail_msg("cdlens exited during start-up");
		}
		nanosleep(&(struct timespec){.tv_nsec = 100000000}, NULL);
	}
	print_log(s);
	fail_msg("cdlens did not become ready within 30 s");
}

int test_server_stop(struct test_server *s)
{
	kill(s->pid, SIGTERM);
	int status = test_server_wait_exit(s, 30);
	if (status >= 0)
		return status;
	print_log(s);
	kill(s->pid, SIGKILL);
	fail_msg("cdlens did not stop within 30 s of SIGTERM");
	return -1;
}

char *test_server_open(struct test_server *s, const char *hint, const char *const *extra_args)
{
	char *db_url = testdb_create(hint);

	test_server_start(s, db_url, extra_args);
	return db_url;
}

void test_server_close(struct test_server *s, char **db_url)
{
	int status = test_server_stop(s);

	/* freed before failing: fail_msg() does not return */
	free(*db_url);
	*db_url = NULL;
	if (status != 0) {
		print_log(s);
		fail_msg("cdlens exited with status %d, not 0", status);
	}
}

void test_server_signal(const struct test_server *s, int sig)
{
	kill(s->pid, sig);
}

void test_server_kill(struct test_server *s)
{
	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
	s->pid = 0;
}

void test_server_wait_correlated(const struct test_server *s, int timeout_s)
{
	for (int i = 0; i < timeout_s * 100; i++) {
		struct http_response r = {0};
		http_request(s->port, "GET", "/readyz", NULL, NULL, 0, &r);
		bool done = r.status == 200 && strstr(r.body, "\"queued_events\":0,") &&
			    strstr(r.body, "\"pending_events\":0,");
		http_response_release(&r);
		if (done)
			return;
		usleep(10000);
	}
	fail_msg("correlation did not finish within %d s", timeout_s);
}
