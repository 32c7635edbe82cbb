// A small C surface over libcrypto: SHA-256 (one-shot and incremental) and HMAC-SHA256.
// No OpenSSL type appears here; the incremental context is an opaque pointer.
#ifndef ECRPUSH_CCRYPTOSHIM_H
#define ECRPUSH_CCRYPTOSHIM_H

#include <stddef.h>
#include <stdint.h>

#define ECR_SHA256_DIGEST_LENGTH 32

typedef struct ecr_sha256_ctx ecr_sha256_ctx;

/// One-shot SHA-256 of `length` bytes into `out` (32 bytes). Returns 1 on success.
int ecr_sha256(const void *data, size_t length, uint8_t out[ECR_SHA256_DIGEST_LENGTH]);

/// Incremental SHA-256. `ecr_sha256_new` returns NULL when out of memory.
ecr_sha256_ctx *ecr_sha256_new(void);
int ecr_sha256_update(ecr_sha256_ctx *ctx, const void *data, size_t length);
/// Writes the digest; the context may not be updated again afterwards (only freed).
int ecr_sha256_final(ecr_sha256_ctx *ctx, uint8_t out[ECR_SHA256_DIGEST_LENGTH]);
/// Copies the running state so a digest of the prefix can be read without ending the original.
ecr_sha256_ctx *ecr_sha256_copy(const ecr_sha256_ctx *ctx);
void ecr_sha256_free(ecr_sha256_ctx *ctx);

/// HMAC-SHA256 of `data` under `key` into `out` (32 bytes). Returns 1 on success.
int ecr_hmac_sha256(const void *key, size_t key_length, const void *data, size_t data_length,
                    uint8_t out[ECR_SHA256_DIGEST_LENGTH]);

/// Initialises libcrypto without its exit-time cleanup (`OPENSSL_cleanup`, which OpenSSL registers with `atexit`):
/// a process that exits while another thread is still in libcrypto (libcurl loading in the background, a transfer
/// in flight) must not have that state freed under the thread. The first initialisation in the process decides, so
/// call this before any other thread can touch libcrypto. Returns 1 on success.
int ecr_crypto_init_without_exit_cleanup(void);

#endif
