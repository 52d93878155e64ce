/**
 * The claims of our own tokens, read without verification (jose's decodeJwt) to learn when they
 * expire. Grants are signed with jose's SignJWT in tokens.ts.
 */
import { decodeJwt } from 'jose';

/** The claims of a JWT, read WITHOUT verifying it: only to learn when our own token expires. undefined if not a JWT. */
export function decodeJwtClaims(token: string): Record<string, unknown> | undefined {
    try {
        return decodeJwt(token);
    } catch {
        return undefined;
    }
}
