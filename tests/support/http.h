#ifndef TESTS_SUPPORT_HTTP_H
#define TESTS_SUPPORT_HTTP_H
/*
 * A minimal HTTP/1.1 client for integration tests: one request per connection
 * (Connection: close), to 127.0.0.1:port. Not a general client; enough to drive cdlens.
 */
#include <stdbool.h>
#include <stddef.h>

struct http_response {
	int status;       /* 0 when the connection failed */
	char *headers;    /* raw header block, NUL-terminated */
	char *body;       /* NUL-terminated */
	size_t body_len;
};

/* Send a request; `headers` is "Name: value\r\n" lines or NULL. Content-Length is added
 * when body is not NULL. Returns out->status. */
int http_request(int port, const char *method, const char *path, const char *headers,
		 const char *body, size_t len, struct http_response *out);
/* Send raw bytes (a whole request, possibly malformed) and read the response. */
int http_raw(int port, const char *bytes, size_t len, struct http_response *out);

/* Lower level, for tests that hold connections open (slow or stalled clients, keep-alive):
 * http_open() connects to 127.0.0.1:port (60 s send and receive timeouts; -1 on failure),
 * http_send_all() sends every byte (false when the connection broke), http_read_response()
 * reads until the server closes the connection (status 0: no response), and
 * http_exchange() sends a request and reads exactly one response (by Content-Length), so
 * the connection stays usable for the next. The caller closes fd. */
int http_open(int port);
bool http_send_all(int fd, const char *bytes, size_t len);
int http_read_response(int fd, struct http_response *out);
int http_exchange(int fd, const char *bytes, size_t len, struct http_response *out);
/* Copy a response header's value (case-insensitive name) into buf; returns buf or NULL. */
const char *http_header(const struct http_response *r, const char *name, char *buf, size_t cap);
void http_response_release(struct http_response *r);

#endif
