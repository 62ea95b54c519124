/*
 * rand.c — tokens, token hashes and password hashing, all from libsodium.
 * Tokens are stored only as hashes; passwords only as argon2id strings.
 */
#include "base/base.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

void rand_token(char *out, size_t n, size_t bytes)
{
    unsigned char raw[64];
    if (bytes > sizeof raw)
        bytes = sizeof raw;
    randombytes_buf(raw, bytes);
    sodium_bin2base64(out, n, raw, bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void token_hash(const char *token, char *out)
{
    unsigned char h[32];
    crypto_generichash(h, sizeof h, (const unsigned char *)token, strlen(token), NULL, 0);
    sodium_bin2hex(out, 65, h, sizeof h);
}

err password_hash(const char *pw, char *out, size_t n)
{
    if (n < crypto_pwhash_STRBYTES)
        return ERR_INTERNAL;
    if (crypto_pwhash_str_alg(out, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              19u * 1024 * 1024 /* OWASP: argon2id m=19 MiB */,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return ERR_INTERNAL;
    return ERR_OK;
}

bool password_check(const char *hash, const char *pw)
{
    if (!hash || !pw)
        return false;
    return crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0;
}
