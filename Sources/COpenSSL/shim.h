// The system OpenSSL (libssl-dev), with the macros Swift cannot import wrapped as
// functions. Only the OpenSSLTLS module imports this.
#ifndef PORTWARDEN_COPENSSL_SHIM_H
#define PORTWARDEN_COPENSSL_SHIM_H

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static inline EVP_PKEY *pw_generate_p256(void) { return EVP_EC_gen("P-256"); }

static inline int pw_ctx_set_min_tls12(SSL_CTX *ctx) {
    return (int)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
}

// Stateful resumption: the session stays in the server's memory and the client holds
// only its id (a TLS 1.3 "stateful ticket"). Resuming then costs no ticket decryption
// and no re-parsing of the client certificate the session carries, which OpenSSL 3's
// decoder framework makes slow; one ticket per handshake is all a client uses. The
// cache keeps OpenSSL's default 20,480 sessions (a few KiB each, with the client's
// certificate), for an hour: agents reporting every minute, or from cron every few,
// resume.
static inline long pw_ctx_enable_server_session_cache(SSL_CTX *ctx) {
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx, 1);
    SSL_CTX_set_timeout(ctx, 3600);
    return SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
}

// A connection idle between an agent's reports keeps no record buffers (about 16 KiB of
// a kept connection's 46, bench/collector-idle-memory.sh): allocated again for the next record.
static inline long pw_ctx_release_idle_buffers(SSL_CTX *ctx) {
    return SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
}

// A client connection is marked once the server's new session (a TLS 1.3 ticket) arrives.
// The server sends it only after reading the client's Finished: from then on a request
// written on the connection reached a server that completed the handshake. Without the
// mark, a connection closed right after the client's Finished (a collector making room
// at its connection cap) never reached one, and the request is not the cause.
static inline int pw_mark_new_session(SSL *ssl, SSL_SESSION *session) {
    (void)session;
    SSL_set_app_data(ssl, (void *)1);
    return 0;  // no reference kept: the caller takes the session with SSL_get1_session
}

static inline long pw_ctx_enable_client_session_cache(SSL_CTX *ctx) {
    SSL_CTX_sess_set_new_cb(ctx, pw_mark_new_session);
    return SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
}

static inline int pw_server_completed_handshake(const SSL *ssl) { return SSL_get_app_data(ssl) != NULL; }

// The chain sent with our certificate, built once from the context's trust store,
// without the root: a peer can only trust the fleet CA it already holds, so sending it
// only costs the peer a parse (a slow one in OpenSSL 3.0: its key goes through the
// decoders). Without this OpenSSL builds the same chain again, verifying our own
// certificate's signature, at every full handshake. A chain that cannot be built (a
// certificate from another CA) leaves the certificate alone, as before.
static inline long pw_ctx_build_chain_without_root(SSL_CTX *ctx) {
    return SSL_CTX_build_cert_chain(ctx, SSL_BUILD_CHAIN_FLAG_NO_ROOT | SSL_BUILD_CHAIN_FLAG_IGNORE_ERROR
                                             | SSL_BUILD_CHAIN_FLAG_CLEAR_ERROR);
}

static inline int pw_set_sni(SSL *ssl, const char *name) { return (int)SSL_set_tlsext_host_name(ssl, name); }

static inline size_t pw_bio_pending(BIO *bio) { return (size_t)BIO_pending(bio); }

static inline long pw_bio_mem_data(BIO *bio, char **data) { return BIO_get_mem_data(bio, data); }

static inline void pw_openssl_free(void *p) { OPENSSL_free(p); }

#endif
