import { generateKeyPair, type KeyObject } from 'node:crypto';
import { exportJWK, type JWK } from 'jose';

/*
 * Keys and algorithms of the simulator's JWTs. Signing, decoding and verification are jose's
 * (SignJWT, decodeJwt, jwtVerify) in tokens.ts and maskinporten.ts.
 */

/** The RSA PKCS#1 v1.5 algorithms Maskinporten accepts in a grant. */
export const RSA_ALGS = ['RS256', 'RS384', 'RS512'] as const;

export type RsaAlg = (typeof RSA_ALGS)[number];

export function isRsaAlg(alg: unknown): alg is RsaAlg {
    return RSA_ALGS.includes(alg as RsaAlg);
}

export interface SigningKey {
    readonly kid: string;
    readonly privateKey: KeyObject;
    readonly publicKey: KeyObject;
}

/** A fresh RSA-2048 key; generated off the main thread, so several can be made in parallel. */
export function createSigningKey(kid: string): Promise<SigningKey> {
    return new Promise((resolve, reject) => {
        generateKeyPair('rsa', { modulusLength: 2048 }, (err, publicKey, privateKey) => {
            if (err) {
                reject(err);
            } else {
                resolve({ kid, privateKey, publicKey });
            }
        });
    });
}

/** The public half as a JWK, for the simulator's JWKS documents. */
export async function publicJwk(key: SigningKey): Promise<JWK> {
    return { ...(await exportJWK(key.publicKey)), kid: key.kid, use: 'sig', alg: 'RS256' };
}
