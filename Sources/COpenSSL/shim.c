#include "COpenSSL.h"

int copenssl_aes256gcm_seal(const uint8_t key[32], const uint8_t iv[12],
                            const uint8_t *aad, size_t aad_length,
                            const uint8_t *plaintext, size_t length,
                            uint8_t *out, uint8_t tag[16]) {
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (!ctx) return 0;
    int ok = 0, n = 0;
    if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1) goto done;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) != 1) goto done;
    if (EVP_EncryptInit_ex(ctx, NULL, NULL, key, iv) != 1) goto done;
    if (aad_length > 0 && EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aad_length) != 1) goto done;
    if (length > 0 && EVP_EncryptUpdate(ctx, out, &n, plaintext, (int)length) != 1) goto done;
    if (EVP_EncryptFinal_ex(ctx, out + (length > 0 ? n : 0), &n) != 1) goto done;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag) != 1) goto done;
    ok = 1;
done:
    EVP_CIPHER_CTX_free(ctx);
    return ok;
}

int copenssl_aes256gcm_open(const uint8_t key[32], const uint8_t iv[12],
                            const uint8_t *aad, size_t aad_length,
                            const uint8_t *ciphertext, size_t length,
                            const uint8_t tag[16], uint8_t *out) {
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (!ctx) return 0;
    int ok = 0, n = 0;
    if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1) goto done;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) != 1) goto done;
    if (EVP_DecryptInit_ex(ctx, NULL, NULL, key, iv) != 1) goto done;
    if (aad_length > 0 && EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aad_length) != 1) goto done;
    if (length > 0 && EVP_DecryptUpdate(ctx, out, &n, ciphertext, (int)length) != 1) goto done;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, (void *)tag) != 1) goto done;
    if (EVP_DecryptFinal_ex(ctx, out + (length > 0 ? n : 0), &n) != 1) goto done;
    ok = 1;
done:
    EVP_CIPHER_CTX_free(ctx);
    return ok;
}

int copenssl_rsa_sha1_sign(const char *pem, size_t pem_length,
                           const uint8_t *message, size_t message_length,
                           uint8_t *signature, size_t *signature_length) {
    int ok = 0;
    BIO *bio = BIO_new_mem_buf(pem, (int)pem_length);
    EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    EVP_MD_CTX *ctx = key ? EVP_MD_CTX_new() : NULL;
    if (!ctx) goto done;
    if (EVP_DigestSignInit(ctx, NULL, EVP_sha1(), NULL, key) != 1) goto done;
    if (EVP_DigestSign(ctx, signature, signature_length, message, message_length) != 1) goto done;
    ok = 1;
done:
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    BIO_free(bio);
    ERR_clear_error();
    return ok;
}

int copenssl_rsa_sha1_verify(const char *pem, size_t pem_length,
                             const uint8_t *message, size_t message_length,
                             const uint8_t *signature, size_t signature_length) {
    int ok = 0;
    BIO *bio = BIO_new_mem_buf(pem, (int)pem_length);
    EVP_PKEY *key = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    EVP_MD_CTX *ctx = key ? EVP_MD_CTX_new() : NULL;
    if (!ctx) goto done;
    if (EVP_DigestVerifyInit(ctx, NULL, EVP_sha1(), NULL, key) != 1) goto done;
    ok = EVP_DigestVerify(ctx, signature, signature_length, message, message_length) == 1;
done:
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    BIO_free(bio);
    ERR_clear_error();
    return ok;
}
