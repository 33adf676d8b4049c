/*
 * web/tls.c: the certificate and key of --tls-cert / --tls-key, through OpenSSL.
 *
 * Why check before civetweb starts: civetweb reports any TLS set-up failure as "error
 * initializing SSL context"; checking the files here first names the file and the problem
 * (unreadable, not PEM, expired, key of another certificate). An expired certificate is
 * refused at start too: every client would refuse it anyway, and a server that starts but
 * cannot be reached is harder to diagnose than one that does not start.
 * Encrypted keys are refused (there is no one to type the pass phrase): the password
 * callback below answers no password instead of letting OpenSSL prompt on the terminal.
 *
 * The certificate is read once, at start: a renewed certificate needs a restart.
 */
#include "web/tls.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

#define TLS_COMPAT_NAME "libcdlens-tls-compat.so"

/* No pass phrase: an encrypted key fails to load instead of prompting. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return 0;
}

/* "2026-01-02T03:04:05Z" */
static void asn1_time_text(const ASN1_TIME *t, char out[32])
{
	struct tm tm = {0};

	if (ASN1_TIME_to_tm(t, &tm) == 1)
		strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	else
		snprintf(out, 32, "(unreadable date)");
}

static enum status read_cert(const char *path, X509 **out, struct err *err)
{
	FILE *f = fopen(path, "r");

	if (!f)
		return err_set(err, ST_INVALID, "could not read --tls-cert \"%s\": %s", path,
			       strerror(errno));
	*out = PEM_read_X509(f, NULL, no_password, NULL);
	fclose(f);
	if (!*out)
		return err_set(err, ST_INVALID, "--tls-cert \"%s\" holds no PEM certificate", path);
	return ST_OK;
}

static enum status check_dates(const char *path, X509 *cert, struct err *err)
{
	char when[32];

	if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0) {
		asn1_time_text(X509_get0_notAfter(cert), when);
		return err_set(err, ST_INVALID, "the certificate in --tls-cert \"%s\" expired "
			       "on %s", path, when);
	}
	if (X509_cmp_current_time(X509_get0_notBefore(cert)) >= 0) {
		asn1_time_text(X509_get0_notBefore(cert), when);
		return err_set(err, ST_INVALID, "the certificate in --tls-cert \"%s\" is not valid "
			       "before %s", path, when);
	}
	return ST_OK;
}

static enum status read_key(const char *option, const char *path, EVP_PKEY **out,
			    struct err *err)
{
	FILE *f = fopen(path, "r");

	if (!f)
		return err_set(err, ST_INVALID, "could not read %s \"%s\": %s", option, path,
			       strerror(errno));
	*out = PEM_read_PrivateKey(f, NULL, no_password, NULL);
	fclose(f);
	if (!*out)
		return err_set(err, ST_INVALID, "%s \"%s\" holds no unencrypted PEM private key",
			       option, path);
	return ST_OK;
}

enum status tls_check(const char *cert, const char *key, struct err *err)
{
	X509 *x = NULL;
	EVP_PKEY *pk = NULL;
	const char *key_option = key && *key ? "--tls-key" : "--tls-cert";
	const char *key_file = key && *key ? key : cert;
	enum status st = read_cert(cert, &x, err);

	if (st == ST_OK)
		st = check_dates(cert, x, err);
	if (st == ST_OK)
		st = read_key(key_option, key_file, &pk, err);
	if (st == ST_OK && X509_check_private_key(x, pk) != 1)
		st = err_set(err, ST_INVALID, "the key in %s \"%s\" is not the key of the "
			     "certificate in --tls-cert \"%s\"", key_option, key_file, cert);
	EVP_PKEY_free(pk);
	X509_free(x);
	ERR_clear_error();
	return st;
}

int tls_setup_ctx(void *ssl_ctx, const char *cert, const char *key)
{
	SSL_CTX *ctx = ssl_ctx;

	SSL_CTX_set_default_passwd_cb(ctx, no_password);
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key && *key ? key : cert, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		char why[256];
		ERR_error_string_n(ERR_get_error(), why, sizeof why);
		log_error("could not set up TLS with --tls-cert \"%s\": %s", cert, why);
		ERR_clear_error();
		return -1;
	}
	return 1;
}

/* `dir`/name into out; whether it names a file. */
static int compat_in(const char *dir, size_t dirlen, char *out, size_t cap)
{
	snprintf(out, cap, "%.*s/%s", (int)dirlen, dir, TLS_COMPAT_NAME);
	return access(out, R_OK) == 0;
}

void *tls_compat_open(void)
{
	char exe[PATH_MAX] = "", path[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	const char *slash = n > 0 ? strrchr(exe, '/') : NULL;

	if (slash && compat_in(exe, (size_t)(slash - exe), path, sizeof path)) /* the build */
		return dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (compat_in(CDLENS_LIBDIR, strlen(CDLENS_LIBDIR), path, sizeof path)) /* installed */
		return dlopen(path, RTLD_NOW | RTLD_LOCAL);
	log_debug("no %s: civetweb loads OpenSSL on its own", TLS_COMPAT_NAME);
	return NULL;
}

void tls_compat_close(void *handle)
{
	if (handle)
		dlclose(handle);
}
