import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, errors, jwtVerify, SignJWT, type JWK, type JWTPayload } from 'jose';
import { createSigningKey, publicJwk, type SigningKey } from './jwt';
import { type Origins } from './types';

/*
 * The tokens the simulator issues itself: Maskinporten access tokens (from /token) and Altinn
 * tokens (from the exchange). Each kind has its own key, so a token of one kind, or one signed
 * by anybody else, never passes where the other is required.
 */

export type TokenKind = 'maskinporten' | 'altinn';

export interface Principal {
    kind: TokenKind;
    scopes: string[];
    /** urn:altinn:org (Altinn tokens with a serviceowner scope only). */
    org?: string;
    /** From urn:altinn:orgNumber, or the Maskinporten consumer "0192:{orgnr}". */
    orgNumber?: string;
    clientId?: string;
    claims: Record<string, unknown>;
}

export type VerifyResult = { ok: true; principal: Principal } | { ok: false; reason: string };

export function consumerClaim(orgNumber: string): Record<string, string> {
    return { authority: 'iso6523-actorid-upis', ID: `0192:${orgNumber}` };
}

export function orgNumberFromConsumer(consumer: unknown): string | undefined {
    if (typeof consumer !== 'object' || consumer === null) {
        return undefined;
    }
    const { authority, ID } = consumer as Record<string, unknown>;
    if (authority !== 'iso6523-actorid-upis' || typeof ID !== 'string') {
        return undefined;
    }
    const match = /^0192:(\d{9})$/.exec(ID);
    return match ? match[1] : undefined;
}

function scopesOf(claims: Record<string, unknown>): string[] {
    return typeof claims.scope === 'string' ? claims.scope.split(' ').filter((s) => s !== '') : [];
}

export function nowSeconds(): number {
    return Math.floor(Date.now() / 1000);
}

/** Why jwtVerify refused one of our tokens, for the log. */
function rejectionReason(err: unknown): string {
    if (err instanceof errors.JWTExpired) {
        return 'expired';
    }
    if (err instanceof errors.JWTClaimValidationFailed) {
        if (err.claim === 'iss') {
            return `issuer ${String(err.payload.iss)} not trusted`;
        }
        return err.claim === 'nbf' ? 'not yet valid' : err.claim === 'exp' ? 'expired' : err.message;
    }
    if (err instanceof errors.JWSSignatureVerificationFailed || err instanceof errors.JOSEAlgNotAllowed) {
        return 'bad signature';
    }
    if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) {
        return 'not a JWT';
    }
    return `not verifiable: ${err instanceof Error ? err.message : String(err)}`;
}

export class TokenService {
    constructor(
        private readonly origins: Origins,
        readonly maskinportenKey: SigningKey,
        readonly altinnKey: SigningKey,
    ) {}

    static async create(origins: Origins): Promise<TokenService> {
        const [maskinporten, altinn] = await Promise.all([
            createSigningKey(`sim-maskinporten-${randomUUID().slice(0, 8)}`),
            createSigningKey(`sim-altinn-${randomUUID().slice(0, 8)}`),
        ]);
        return new TokenService(origins, maskinporten, altinn);
    }

    get maskinportenIssuer(): string {
        return `${this.origins.maskinportenUrl}/`;
    }

    get altinnIssuer(): string {
        return `${this.origins.platformUrl}/authentication/api/v1/openid/`;
    }

    async jwks(kind: TokenKind): Promise<{ keys: JWK[] }> {
        return { keys: [await publicJwk(kind === 'maskinporten' ? this.maskinportenKey : this.altinnKey)] };
    }

    issueMaskinporten(claims: Record<string, unknown>): Promise<string> {
        return new SignJWT({ iss: this.maskinportenIssuer, ...claims })
            .setProtectedHeader({ alg: 'RS256', kid: this.maskinportenKey.kid, typ: 'at+jwt' })
            .sign(this.maskinportenKey.privateKey);
    }

    issueAltinn(claims: Record<string, unknown>): Promise<string> {
        return new SignJWT({ ...claims, iss: this.altinnIssuer })
            .setProtectedHeader({ alg: 'RS256', kid: this.altinnKey.kid, typ: 'JWT' })
            .sign(this.altinnKey.privateKey);
    }

    /** Signature by our key of an accepted kind, our issuer, and exp/nbf within `skewSeconds`. */
    async verify(token: string | undefined, accepted: TokenKind[], skewSeconds = 0): Promise<VerifyResult> {
        if (!token) {
            return { ok: false, reason: 'no bearer token' };
        }
        let kid: unknown;
        try {
            kid = decodeProtectedHeader(token).kid;
        } catch {
            return { ok: false, reason: 'not a JWT' };
        }
        const kind: TokenKind | undefined =
            kid === this.maskinportenKey.kid ? 'maskinporten' : kid === this.altinnKey.kid ? 'altinn' : undefined;
        if (!kind || !accepted.includes(kind)) {
            return { ok: false, reason: `signing key ${String(kid)} not trusted here` };
        }
        const key = kind === 'maskinporten' ? this.maskinportenKey : this.altinnKey;
        let claims: JWTPayload;
        try {
            ({ payload: claims } = await jwtVerify(token, key.publicKey, {
                algorithms: ['RS256'],
                issuer: kind === 'maskinporten' ? this.maskinportenIssuer : this.altinnIssuer,
                requiredClaims: ['exp'],
                clockTolerance: skewSeconds,
            }));
        } catch (err) {
            return { ok: false, reason: rejectionReason(err) };
        }
        const principal: Principal = { kind, scopes: scopesOf(claims), claims };
        if (kind === 'altinn') {
            if (typeof claims['urn:altinn:org'] === 'string') {
                principal.org = claims['urn:altinn:org'];
            }
            if (typeof claims['urn:altinn:orgNumber'] === 'string') {
                principal.orgNumber = claims['urn:altinn:orgNumber'];
            }
        } else {
            principal.orgNumber = orgNumberFromConsumer(claims.consumer);
        }
        if (typeof claims.client_id === 'string') {
            principal.clientId = claims.client_id;
        }
        return { ok: true, principal };
    }
}
