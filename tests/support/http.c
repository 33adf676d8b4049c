/* tests/support/http.c: blocking one-shot HTTP client over loopback TCP. */
#include "support/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/xalloc.h"

int http_open(int port)
{
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct timeval tv = {.tv_sec = 60};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void parse_response(struct buf *in, struct http_response *out)
{
	char *data = in->data ? in->data : (char *)"";
	char *end = strstr(data, "\r\n\r\n");

	memset(out, 0, sizeof *out);
	if (!end || sscanf(data, "HTTP/1.%*d %d", &out->status) != 1) {
		out->status = 0;
		out->headers = xstrdup("");
		out->body = xstrdup("");
		return;
	}
	out->headers = xstrndup(data, (size_t)(end - data) + 2);
	out->body_len = in->len - (size_t)(end + 4 - data);
	out->body = xmalloc(out->body_len + 1);
	memcpy(out->body, end + 4, out->body_len);
	out->body[out->body_len] = '\0';
}

static void no_response(struct http_response *out)
{
	memset(out, 0, sizeof *out);
	out->headers = xstrdup("");
	out->body = xstrdup("");
}

/* recv(), again when a signal interrupted it (seen in test_pg_restart, while system() ran
 * pg.sh: before, such a request counted as one that got no response). */
static ssize_t recv_retry(int fd, void *buf, size_t len)
{
	ssize_t n;

	while ((n = recv(fd, buf, len, 0)) < 0 && errno == EINTR)
		;
	return n;
}

int http_read_response(int fd, struct http_response *out)
{
	struct buf in = BUF_INIT(0);
	char chunk[65536];
	ssize_t n;

	while ((n = recv_retry(fd, chunk, sizeof chunk)) > 0)
		buf_append(&in, chunk, (size_t)n);
	parse_response(&in, out);
	buf_release(&in);
	return out->status;
}

bool http_send_all(int fd, const char *bytes, size_t len)
{
	ssize_t n = 0;

	for (size_t off = 0; off < len; off += (size_t)n) {
		while ((n = send(fd, bytes + off, len - off, MSG_NOSIGNAL)) < 0 && errno == EINTR)
			;
		if (n <= 0)
			return false;
	}
	return true;
}

int http_raw(int port, const char *bytes, size_t len, struct http_response *out)
{
	int fd = http_open(port);

	if (fd < 0) {
		no_response(out);
		return 0;
	}
	http_send_all(fd, bytes, len);
	shutdown(fd, SHUT_WR);
	http_read_response(fd, out);
	close(fd);
	return out->status;
}

int http_exchange(int fd, const char *bytes, size_t len, struct http_response *out)
{
	struct buf in = BUF_INIT(0);
	char c;
	long clen = -1;

	no_response(out);
	if (!http_send_all(fd, bytes, len))
		return 0;
	while (!strstr(buf_cstr(&in), "\r\n\r\n") && recv_retry(fd, &c, 1) == 1)
		buf_putc(&in, c);
	const char *cl = strcasestr(buf_cstr(&in), "\r\nContent-Length:");
	if (cl)
		clen = strtol(cl + 17, NULL, 10);
	for (; clen > 0 && recv_retry(fd, &c, 1) == 1; clen--)
		buf_putc(&in, c);
	http_response_release(out);
	parse_response(&in, out);
	buf_release(&in);
	return out->status;
}

int http_request(int port, const char *method, const char *path, const char *headers,
		 const char *body, size_t len, struct http_response *out)
{
	struct buf req = BUF_INIT(0);

	buf_printf(&req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n", method,
		   path, port);
	if (headers)
		buf_puts(&req, headers);
	if (body)
		buf_printf(&req, "Content-Length: %zu\r\n", len);
	buf_puts(&req, "\r\n");
	if (body)
		buf_append(&req, body, len);
	int status = http_raw(port, req.data, req.len, out);
	buf_release(&req);
	return status;
}

const char *http_header(const struct http_response *r, const char *name, char *buf, size_t cap)
{
	size_t nlen = strlen(name);

	for (const char *line = strstr(r->headers, "\r\n"); line && line[2]; line = strstr(line + 2, "\r\n")) {
		const char *h = line + 2;
		if (strncasecmp(h, name, nlen) == 0 && h[nlen] == ':') {
			const char *v = h + nlen + 1;
			while (*v == ' ')
				v++;
			size_t vlen = strcspn(v, "\r\n");
			snprintf(buf, cap, "%.*s", (int)vlen, v);
			return buf;
		}
	}
	return NULL;
}

void http_response_release(struct http_response *r)
{
	free(r->headers);
	free(r->body);
	memset(r, 0, sizeof *r);
}
