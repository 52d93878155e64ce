/**
 * Compact JWS signing (RS256) and unverified payload decoding, on node:crypto.
 *
 * Why not jose: jose 6 is ESM-only. This project compiles to CommonJS (module Node16), where a
 * static import fails to type-check (TS1479) and a dynamic import() fails under Jest without
 * --experimental-vm-modules. Signing one RS256 JWT is a few lines of node:crypto; the tests
 * verify the result with jose itself, in a child Node process.
 */
import { sign, type KeyObject } from 'node:crypto';

export type JwtHeader = { alg: 'RS256'; x5c?: string[]; kid?: string; typ?: string };

function base64url(data: string | Buffer): string {
    return Buffer.from(data).toString('base64url');
}

/** header.payload.signature, RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3). */
export function signJwtRs256(header: JwtHeader, claims: Record<string, unknown>, key: KeyObject): string {
    const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    return `${input}.${base64url(sign('sha256', Buffer.from(input), key))}`;
}

/** The claims of a JWT, read WITHOUT verifying it: only to learn when our own token expires. */
export function decodeJwtClaims(token: string): Record<string, unknown> | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    try {
        const claims: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
        return claims && typeof claims === 'object' && !Array.isArray(claims)
            ? (claims as Record<string, unknown>)
            : undefined;
    } catch {
        return undefined;
    }
}
