#ifndef TESTS_SUPPORT_PGPROXY_H
#define TESTS_SUPPORT_PGPROXY_H
/*
 * A TCP front for the test PostgreSQL (which listens on a Unix socket only), so that a test
 * can take the database's network away on purpose. Forwarding, it relays every connection
 * byte for byte. Silent, it closes the connections it relays and accepts new ones without
 * ever answering them: to a client, a database host that has gone away and drops packets
 * (its connect_timeout is what ends the wait).
 * Threads: one relay thread; the calls below are for the test thread.
 */
#include <stdbool.h>

struct pgproxy;

/* Listen on a free 127.0.0.1 port and relay to the Unix socket at `socket_path`.
 * Fails the test when it cannot listen. */
struct pgproxy *pgproxy_start(const char *socket_path);
int pgproxy_port(const struct pgproxy *p);
/* Switch between forwarding (false) and silent (true); returns once the relay thread has
 * closed the relayed connections (when going silent). */
void pgproxy_set_silent(struct pgproxy *p, bool silent);
/* Connections accepted since start (relayed or left unanswered). */
int pgproxy_accepted(struct pgproxy *p);
void pgproxy_free(struct pgproxy *p); /* NULL: no-op */

#endif
