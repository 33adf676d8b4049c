/*
 * tests/web/test_tls.c: HTTPS (--tls-cert, --tls-key) through the real binary, with
 * certificates made at test time by the openssl CLI in a folder beside the test, and curl
 * as the client (label db). See docs/SECURITY.md.
 *
 * Checked: an event posted over HTTPS is stored and an API answers over HTTPS, with curl
 * verifying the self-signed certificate (--cacert); TLS 1.2 is accepted and TLS 1.1 refused
 * by the server; plain HTTP to the port gets no HTTP answer; a certificate and key in one
 * file work too. The server refuses to start, saying why, with an expired or not yet valid
 * certificate, a key of another certificate, a missing or non-PEM file, --tls-key alone,
 * and an HTTPS --listen port without a certificate.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "support/fixture.h"
#include "support/http.h"
#include "support/server.h"
#include "support/testdb.h"

static char *db_url;
static char dir[64]; /* tls-<pid>: certificates, curl's output */

static const char event[] =
	"{\"context\":{\"specversion\":\"0.5.1\",\"id\":\"over-tls\",\"source\":\"/test/ci\","
	"\"type\":\"dev.cdevents.pipelinerun.queued.0.3.0\","
	"\"timestamp\":\"2026-01-02T03:04:05Z\"},"
	"\"subject\":{\"id\":\"run-tls\",\"source\":\"/test/ci\",\"content\":{"
	"\"pipelineName\":\"build\"}}}";

/* Run a shell command built from fmt; fails the test unless it exits 0. */
__attribute__((format(printf, 1, 2))) static void sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	int rc = system(cmd);
	if (rc != 0)
		fail_msg("command failed (%d): %s", rc, cmd);
}

/* A self-signed certificate for localhost and 127.0.0.1: NAME.crt and NAME.key. */
static void make_cert(const char *name)
{
	sh("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	   "-keyout %s.key -out %s.crt -days 2 -subj /CN=localhost "
	   "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null",
	   dir, name, name);
}

/* A self-signed certificate valid only from `start` to `end` (YYYYMMDDHHMMSSZ): openssl
 * req cannot date one in the past, openssl ca -selfsign can. */
static void make_dated_cert(const char *name, const char *start, const char *end)
{
	sh("cd %s && rm -rf ca && mkdir ca && touch ca/index.txt && echo 01 > ca/serial && "
	   "printf '[ca]\\ndefault_ca = d\\n[d]\\ndatabase = ca/index.txt\\nnew_certs_dir = ca\\n"
	   "serial = ca/serial\\ndefault_md = sha256\\npolicy = p\\n[p]\\ncommonName = supplied\\n'"
	   " > ca/ca.cnf && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	   "-keyout %s.key -out ca/req.csr -subj /CN=localhost 2>/dev/null && openssl ca -batch "
	   "-config ca/ca.cnf -selfsign -keyfile %s.key -in ca/req.csr -out %s.crt "
	   "-startdate %s -enddate %s 2>/dev/null",
	   dir, name, name, name, start, end);
}

struct curl_result {
	int status;     /* the HTTP status, 0 when there was none */
	int exit_code;  /* curl's */
	char *body;     /* malloc'ed */
	char *errors;   /* curl's stderr, malloc'ed */
};

static char *read_or_empty(const char *path)
{
	struct fixture f;

	return fixture_read_path(path, &f) == 0 ? f.data : strdup("");
}

/* curl `args` (a shell fragment) with a 20 s limit. */
static struct curl_result curl(const char *args)
{
	char cmd[2048], out[16] = "", path[128];
	struct curl_result r = {0};

	snprintf(cmd, sizeof cmd,
		 "curl -sS --max-time 20 -o %s/body -w '%%{http_code}' %s 2>%s/err", dir, args,
		 dir);
	FILE *p = popen(cmd, "r");
	if (!p || !fgets(out, sizeof out, p))
		out[0] = '\0';
	int rc = p ? pclose(p) : -1;
	r.exit_code = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
	r.status = atoi(out);
	snprintf(path, sizeof path, "%s/body", dir);
	r.body = read_or_empty(path);
	snprintf(path, sizeof path, "%s/err", dir);
	r.errors = read_or_empty(path);
	unlink(path);
	snprintf(path, sizeof path, "%s/body", dir);
	unlink(path);
	return r;
}

static void curl_release(struct curl_result *r)
{
	free(r->body);
	free(r->errors);
}

static void print_log_and_fail(const struct test_server *s, const char *why)
{
	char *log = read_or_empty(s->log_path);

	fail_msg("%s; server log:\n%s", why, log);
}

/* Start with the certificate NAME (and its key file unless key_in_cert) and wait until
 * /readyz answers over HTTPS. */
static void start_https(struct test_server *s, const char *name, bool key_in_cert)
{
	char cert[128], key[128];

	snprintf(cert, sizeof cert, "--tls-cert=%s/%s%s", dir, name, key_in_cert ? ".pem" : ".crt");
	snprintf(key, sizeof key, "--tls-key=%s/%s.key", dir, name);
	/* two workers: a connection is sure to meet a worker that served an earlier one */
	const char *const server_args[] = {cert, key_in_cert ? "--log-level=info" : key,
					   "--http-threads=2", NULL};

	test_server_spawn(s, db_url, server_args);
	for (int i = 0; i < 300; i++) {
		char args[256];
		snprintf(args, sizeof args, "--cacert %s/%s.crt https://127.0.0.1:%d/readyz", dir,
			 name, s->port);
		struct curl_result r = curl(args);
		int status = r.status;
		curl_release(&r);
		if (status == 200)
			return;
		if (test_server_wait_exit(s, 0) >= 0)
			print_log_and_fail(s, "cdlens exited during start-up");
		usleep(100000);
	}
	print_log_and_fail(s, "cdlens did not answer over HTTPS within 30 s");
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "tls-%d", (int)getpid());
	sh("rm -rf %s && mkdir %s", dir, dir);
	make_cert("good");
	make_cert("other");
	sh("cat %s/good.crt %s/good.key > %s/good.pem", dir, dir, dir);
	make_dated_cert("expired", "20200101000000Z", "20200201000000Z");
	make_dated_cert("future", "20990101000000Z", "20990201000000Z");
	sh("echo 'not a certificate' > %s/junk.crt", dir);
	db_url = testdb_create("tls");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sh("rm -rf %s", dir);
	free(db_url);
	return 0;
}

static void serves_https(void **state)
{
	(void)state;
	struct test_server srv;
	char args[1024];

	sh("printf '%%s' '%s' > %s/event.json", event, dir);
	start_https(&srv, "good", false);

	/* POST an event over HTTPS: stored, with the token's name */
	snprintf(args, sizeof args,
		 "--cacert %s/good.crt -H 'Authorization: Bearer test-secret-1' "
		 "-H 'Content-Type: application/json' --data-binary @%s/event.json "
		 "https://127.0.0.1:%d/api/v1/events", dir, dir, srv.port);
	struct curl_result r = curl(args);
	if (r.status != 202)
		fail_msg("POST over HTTPS: %d (%s) %s", r.status, r.errors, r.body);
	assert_string_equal(r.body, "{\"accepted\":1,\"duplicates\":0}");
	curl_release(&r);
	char *producer = testdb_scalar(db_url, "SELECT producer FROM events WHERE id = 'over-tls'",
				       0, NULL);
	assert_string_equal(producer, "test");
	free(producer);

	/* GET the run over HTTPS, TLS 1.2 exactly (404 until the correlator has linked it) */
	snprintf(args, sizeof args, "--cacert %s/good.crt --tlsv1.2 --tls-max 1.2 "
		 "'https://127.0.0.1:%d/api/v1/pipeline-runs/run?id=run-tls&source=/test/ci'", dir,
		 srv.port);
	for (int i = 0; i < 300; i++, usleep(100000)) {
		r = curl(args);
		if (r.status == 200)
			break;
		if (r.status != 404)
			fail_msg("GET over TLS 1.2: %d (%s)", r.status, r.errors);
		curl_release(&r);
	}
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"pipeline\":\"build\""));
	curl_release(&r);

	/* OPTIONS * gets its 400 over TLS too (written by web/server.c connection_close()
	 * before the TLS session ends) */
	snprintf(args, sizeof args, "--cacert %s/good.crt -X OPTIONS --request-target '*' "
		 "https://127.0.0.1:%d/", dir, srv.port);
	for (int i = 0; i < 3; i++) { /* on both workers */
		r = curl(args);
		if (r.status != 400 || !strstr(r.body, "asterisk-form"))
			fail_msg("OPTIONS * over HTTPS: %d (%s) %s", r.status, r.errors, r.body);
		curl_release(&r);
	}
	/* and a connection whose handshake fails next on those workers gets no answer: civetweb
	 * closes it with the worker's previous request still in place, which must not be
	 * answered again (it was, in plain text) */
	for (int i = 0; i < 4; i++) {
		struct http_response plain;
		if (http_request(srv.port, "GET", "/readyz", NULL, NULL, 0, &plain) != 0)
			fail_msg("plain HTTP to the HTTPS port answered: %s", plain.headers);
		http_response_release(&plain);
	}

	/* TLS 1.1 offered (the client allows it): the server refuses the handshake */
	snprintf(args, sizeof args, "--cacert %s/good.crt --tlsv1.1 --tls-max 1.1 "
		 "--ciphers DEFAULT:@SECLEVEL=0 https://127.0.0.1:%d/readyz", dir, srv.port);
	r = curl(args);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.exit_code, 35); /* CURLE_SSL_CONNECT_ERROR */
	if (!strstr(r.errors, "alert protocol version"))
		fail_msg("TLS 1.1 not refused by the server: %s", r.errors);
	curl_release(&r);

	/* a client that does not trust the certificate refuses it: it is the one served */
	snprintf(args, sizeof args, "https://127.0.0.1:%d/readyz", srv.port);
	r = curl(args);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.exit_code, 60); /* CURLE_PEER_FAILED_VERIFICATION */
	curl_release(&r);

	/* plain HTTP to the HTTPS port gets no HTTP answer */
	struct http_response plain;
	assert_int_equal(http_request(srv.port, "GET", "/readyz", NULL, NULL, 0, &plain), 0);
	http_response_release(&plain);
	snprintf(args, sizeof args, "http://127.0.0.1:%d/readyz", srv.port);
	r = curl(args);
	assert_int_equal(r.status, 0);
	assert_int_not_equal(r.exit_code, 0);
	curl_release(&r);

	char *log = read_or_empty(srv.log_path);
	assert_non_null(strstr(log, "listening on https://127.0.0.1:"));
	free(log);
	assert_int_equal(test_server_stop(&srv), 0);
}

/* One PEM file holding the certificate and then the key, no --tls-key. */
static void certificate_and_key_in_one_file(void **state)
{
	(void)state;
	struct test_server srv;

	start_https(&srv, "good", true);
	assert_int_equal(test_server_stop(&srv), 0);
}

static void refuses_bad_tls_at_start(void **state)
{
	(void)state;
	static const struct {
		const char *cert, *key; /* file names in dir, or NULL */
		const char *says;
	} cases[] = {
		{"expired.crt", "expired.key", "expired on 2020-02-01T00:00:00Z"},
		{"future.crt", "future.key", "is not valid before 2099-01-01T00:00:00Z"},
		{"good.crt", "other.key", "is not the key of the certificate in --tls-cert"},
		{"missing.crt", "good.key", "could not read --tls-cert"},
		{"good.crt", "missing.key", "could not read --tls-key"},
		{"junk.crt", "good.key", "holds no PEM certificate"},
		{"good.crt", "good.crt", "--tls-key \"%s/good.crt\" holds no unencrypted PEM"},
		{"good.crt", NULL, "--tls-cert \"%s/good.crt\" holds no unencrypted PEM private"},
		{NULL, "good.key", "--tls-key needs --tls-cert"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct test_server bad;
		char cert[128] = "--log-level=info", key[128] = "--log-level=info", says[256];
		if (cases[i].cert)
			snprintf(cert, sizeof cert, "--tls-cert=%s/%s", dir, cases[i].cert);
		if (cases[i].key)
			snprintf(key, sizeof key, "--tls-key=%s/%s", dir, cases[i].key);
		snprintf(says, sizeof says, cases[i].says, dir);
		test_server_spawn(&bad, db_url, (const char *const[]){cert, key, NULL});
		int status = test_server_wait_exit(&bad, 30);
		char *log = read_or_empty(bad.log_path);
		if (status != 1 || !strstr(log, says))
			fail_msg("case %zu: status %d, want 1 and \"%s\" in: %s", i, status, says,
				 log);
		free(log);
	}
}

/* An HTTPS port (civetweb's "s" suffix) without a certificate is a configuration error. */
static void https_port_needs_a_certificate(void **state)
{
	(void)state;
	struct test_server bad;

	test_server_spawn(&bad, db_url, (const char *const[]){"--listen=127.0.0.1:1s", NULL});
	assert_int_equal(test_server_wait_exit(&bad, 30), 1);
	char *log = read_or_empty(bad.log_path);
	assert_non_null(strstr(log, "--listen: \"127.0.0.1:1s\" is an HTTPS port and needs "
				    "--tls-cert"));
	free(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(serves_https),
		cmocka_unit_test(certificate_and_key_in_one_file),
		cmocka_unit_test(refuses_bad_tls_at_start),
		cmocka_unit_test(https_port_needs_a_certificate),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
