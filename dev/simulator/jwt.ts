import { generateKeyPair, sign, verify, type KeyObject } from 'node:crypto';

/*
 * Compact JWS (RS256/384/512) with node:crypto only. jose@6 is published as ESM only, and this
 * project is CommonJS run by ts-jest on Node 20, where Jest cannot require() an ES module; the
 * RSA PKCS#1 v1.5 signatures that Maskinporten and Altinn use are a few lines with node:crypto.
 */

export type RsaAlg = 'RS256' | 'RS384' | 'RS512';

const hashOf: Record<RsaAlg, string> = { RS256: 'sha256', RS384: 'sha384', RS512: 'sha512' };

export function isRsaAlg(alg: unknown): alg is RsaAlg {
    return alg === 'RS256' || alg === 'RS384' || alg === 'RS512';
}

export interface DecodedJwt {
    header: Record<string, unknown>;
    payload: Record<string, unknown>;
    signingInput: string;
    signature: Buffer;
}

function isObject(value: unknown): value is Record<string, unknown> {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function decodePart(part: string): unknown {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

/** Splits and parses a compact JWS; undefined when it is not one (wrong shape or not JSON objects). */
export function decodeJwt(token: string): DecodedJwt | undefined {
    const parts = token.split('.');
    if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) {
        return undefined;
    }
    try {
        const header = decodePart(parts[0]);
        const payload = decodePart(parts[1]);
        if (!isObject(header) || !isObject(payload)) {
            return undefined;
        }
        return {
            header,
            payload,
            signingInput: `${parts[0]}.${parts[1]}`,
            signature: Buffer.from(parts[2], 'base64url'),
        };
    } catch {
        return undefined;
    }
}

export function signJwt(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject): string {
    const alg = header.alg ?? 'RS256';
    if (!isRsaAlg(alg)) {
        throw new Error(`Unsupported alg ${JSON.stringify(alg)}`);
    }
    const encode = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
    const signingInput = `${encode({ ...header, alg })}.${encode(payload)}`;
    const signature = sign(hashOf[alg], Buffer.from(signingInput), key);
    return `${signingInput}.${signature.toString('base64url')}`;
}

/** True when the signature is a valid RSA signature of the header's alg by this public key. */
export function verifyJwtSignature(decoded: DecodedJwt, key: KeyObject): boolean {
    const alg = decoded.header.alg;
    if (!isRsaAlg(alg) || key.asymmetricKeyType !== 'rsa') {
        return false;
    }
    try {
        return verify(hashOf[alg], Buffer.from(decoded.signingInput), key, decoded.signature);
    } catch {
        return false;
    }
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
export function publicJwk(key: SigningKey): Record<string, unknown> {
    return { ...key.publicKey.export({ format: 'jwk' }), kid: key.kid, use: 'sig', alg: 'RS256' };
}
