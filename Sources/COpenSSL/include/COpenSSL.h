#ifndef COPENSSL_H
#define COPENSSL_H

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/pem.h>
#include <openssl/err.h>
#include <stddef.h>
#include <stdint.h>

// Thin, fixed-shape wrappers over libcrypto for what Swift cannot reach cleanly (macros, out-params).
// Every function returns 1 on success and 0 on failure.

/// AES-256-GCM with a 12-byte IV and a 16-byte tag. `out` holds `length` bytes.
int copenssl_aes256gcm_seal(const uint8_t key[32], const uint8_t iv[12],
                            const uint8_t *aad, size_t aad_length,
                            const uint8_t *plaintext, size_t length,
                            uint8_t *out, uint8_t tag[16]);

/// Fails (returns 0) when the tag does not authenticate the ciphertext and the AAD.
int copenssl_aes256gcm_open(const uint8_t key[32], const uint8_t iv[12],
                            const uint8_t *aad, size_t aad_length,
                            const uint8_t *ciphertext, size_t length,
                            const uint8_t tag[16], uint8_t *out);

/// RSA PKCS#1 v1.5 signature over SHA-1 (OAuth 1.0a RSA-SHA1) with a PEM private key.
/// On entry *signature_length is the buffer size; on return it is the signature's length.
int copenssl_rsa_sha1_sign(const char *pem, size_t pem_length,
                           const uint8_t *message, size_t message_length,
                           uint8_t *signature, size_t *signature_length);

/// Verifies an RSA-SHA1 signature with a PEM public key (or certificate's key).
int copenssl_rsa_sha1_verify(const char *pem, size_t pem_length,
                             const uint8_t *message, size_t message_length,
                             const uint8_t *signature, size_t signature_length);

#endif
