#ifndef WEB_TLS_H
#define WEB_TLS_H
/*
 * HTTPS (--tls-cert, --tls-key): the certificate and key are checked before civetweb
 * starts, so a bad file stops the server with a message that says what is wrong, and are
 * then loaded into civetweb's TLS context. The only user of OpenSSL (practice 13).
 * Threads: call from main's thread during start-up (tls_setup_ctx: from civetweb's start).
 */
#include "core/err.h"

/*
 * Check that `cert` (PEM: the certificate, then any chain) and `key` (an unencrypted PEM
 * private key; NULL or "": the key is in `cert`) can be read, that the certificate is valid
 * now (not expired, not yet to come), and that the key is the certificate's key.
 * Errors: ST_INVALID, err->msg naming the option, the file and the problem.
 */
enum status tls_check(const char *cert, const char *key, struct err *err);

/*
 * Load the certificate chain and key into civetweb's OpenSSL context (an SSL_CTX *) and
 * refuse protocols older than TLS 1.2. Returns 1 (done) or -1 (failed, logged): the values
 * civetweb's init_ssl callback returns.
 */
int tls_setup_ctx(void *ssl_ctx, const char *cert, const char *key);

/*
 * Debian 12's civetweb (1.15) loads OpenSSL itself with dlopen("libssl.so") and then looks
 * up SSL_get_peer_certificate, an OpenSSL 1.1 name that OpenSSL 3 no longer exports, so its
 * TLS never starts. tls_compat_open() loads libcdlens-tls-compat.so (web/tls_compat.c, built
 * beside the binary and installed in lib/cdlens) so that civetweb's dlopen() finds it.
 * Returns the handle for tls_compat_close(), or NULL when the library is not found (civetweb
 * then loads OpenSSL on its own, which works with a civetweb built for OpenSSL 3).
 * tls_compat_close(NULL) does nothing.
 */
void *tls_compat_open(void);
void tls_compat_close(void *handle);

#endif
