/*
 * web/tls_compat.c: libcdlens-tls-compat.so, so that Debian 12's civetweb can use OpenSSL 3.
 *
 * Why: Debian 12's libcivetweb1 (1.15) is built to load OpenSSL at run time: it calls
 * dlopen("libssl.so") and looks each function up with dlsym(). Its list still names
 * SSL_get_peer_certificate, which OpenSSL 3 turned into a macro for
 * SSL_get1_peer_certificate, so the look-up fails and civetweb serves no HTTPS at all
 * ("cannot find SSL_get_peer_certificate"; civetweb issue 1334). Every other name on its
 * list is still exported by OpenSSL 3 (checked with nm against libssl.so.3 and
 * libcrypto.so.3).
 *
 * How: this library's SONAME is "libssl.so" and it depends on the real libssl.so.3. Once
 * tls_compat_open() (web/tls.c) has loaded it, glibc's dlopen("libssl.so") returns it (an
 * object already loaded under that SONAME), and dlsym() on it searches it and then its
 * dependencies: civetweb finds the missing name here and every other one in OpenSSL 3.
 * Both names return a new reference to the peer's certificate, which civetweb frees.
 *
 * When civetweb is built for OpenSSL 3 (OPENSSL_API_3_0), this library is harmless: every
 * name it looks up is found in libssl.so.3 behind it.
 */
#include <openssl/ssl.h>

#undef SSL_get_peer_certificate
X509 *SSL_get_peer_certificate(const SSL *ssl);

X509 *SSL_get_peer_certificate(const SSL *ssl)
{
	return SSL_get1_peer_certificate(ssl);
}
