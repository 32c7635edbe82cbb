#include "CCryptoShim.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

struct ecr_sha256_ctx {
    EVP_MD_CTX *md;
};

int ecr_sha256(const void *data, size_t length, uint8_t out[ECR_SHA256_DIGEST_LENGTH]) {
    unsigned int written = 0;
    return EVP_Digest(data, length, out, &written, EVP_sha256(), NULL) == 1 && written == ECR_SHA256_DIGEST_LENGTH;
}

ecr_sha256_ctx *ecr_sha256_new(void) {
    ecr_sha256_ctx *ctx = OPENSSL_malloc(sizeof(ecr_sha256_ctx));
    if (ctx == NULL) return NULL;
    ctx->md = EVP_MD_CTX_new();
    if (ctx->md == NULL || EVP_DigestInit_ex(ctx->md, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(ctx->md);
        OPENSSL_free(ctx);
        return NULL;
    }
    return ctx;
}

int ecr_sha256_update(ecr_sha256_ctx *ctx, const void *data, size_t length) {
    if (length == 0) return 1;
    return EVP_DigestUpdate(ctx->md, data, length);
}

int ecr_sha256_final(ecr_sha256_ctx *ctx, uint8_t out[ECR_SHA256_DIGEST_LENGTH]) {
    unsigned int written = 0;
    return EVP_DigestFinal_ex(ctx->md, out, &written) == 1 && written == ECR_SHA256_DIGEST_LENGTH;
}

ecr_sha256_ctx *ecr_sha256_copy(const ecr_sha256_ctx *ctx) {
    ecr_sha256_ctx *copy = OPENSSL_malloc(sizeof(ecr_sha256_ctx));
    if (copy == NULL) return NULL;
    copy->md = EVP_MD_CTX_new();
    if (copy->md == NULL || EVP_MD_CTX_copy_ex(copy->md, ctx->md) != 1) {
        EVP_MD_CTX_free(copy->md);
        OPENSSL_free(copy);
        return NULL;
    }
    return copy;
}

void ecr_sha256_free(ecr_sha256_ctx *ctx) {
    if (ctx == NULL) return;
    EVP_MD_CTX_free(ctx->md);
    OPENSSL_free(ctx);
}

int ecr_hmac_sha256(const void *key, size_t key_length, const void *data, size_t data_length,
                    uint8_t out[ECR_SHA256_DIGEST_LENGTH]) {
    unsigned int written = 0;
    const unsigned char *result = HMAC(EVP_sha256(), key, (int)key_length, data, data_length, out, &written);
    return result != NULL && written == ECR_SHA256_DIGEST_LENGTH;
}

int ecr_crypto_init_without_exit_cleanup(void) {
    return OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
}
