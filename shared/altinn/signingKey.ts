/**
 * Loads the Maskinporten signing key, inline (local development) or from Key Vault, in any of
 * the shapes people actually hold it: PEM key plus certificate(s), a private JWK, or the PKCS#12
 * Key Vault returns for an imported certificate. Errors name the setting and what is wrong,
 * never any key material.
 *
 * The key id travels with the key: a JWK's own `kid`, or the Key Vault secret's tag `kid`, wins over
 * the MaskinportenKid setting. A rotation is then one step (a new secret version carrying its kid),
 * and no instance ever signs with the new key under the old kid (docs/deploy.md, "Rotate the
 * Maskinporten key").
 */
import {
    createPrivateKey,
    createPublicKey,
    sign,
    verify,
    X509Certificate,
    type KeyObject,
    type PrivateKeyInput,
} from 'node:crypto';
import { DefaultAzureCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { ConfigError, type MaskinportenConfig } from '../config';
import { Pkcs12Error, readPkcs12 } from './pkcs12';

export interface SigningKey {
    privateKey: KeyObject;
    /** Certificate chain, leaf first, base64 DER: the grant's x5c header when there is no kid. */
    x5c?: string[];
    /** Registered key id: when set, the grant carries kid instead of x5c. */
    kid?: string;
    /** Where kid came from: the JWK itself, the Key Vault secret's tag, or the MaskinportenKid setting. */
    kidFrom?: 'key' | 'secret-tag' | 'setting';
    /** When the certificate of the key (the first of x5c) stops being valid. */
    certificateExpiresAt?: Date;
    alg: 'RS256';
}

export interface SecretValue {
    value?: string;
    contentType?: string;
    /** The secret's tags; `kid` names the key id of the key it holds. */
    tags?: Record<string, string>;
}

/** The Key Vault secret tag that carries the key id of a PEM or PKCS#12 key (`az keyvault secret set --tags kid=…`). */
export const kidTag = 'kid';

/** Reads one Key Vault secret; the default uses the function app's managed identity. */
export type SecretReader = (vaultUri: string, secretName: string) => Promise<SecretValue>;

export interface LoadSigningKeyOptions {
    readSecret?: SecretReader;
    /** For the certificate expiry check. */
    now?: () => Date;
}

const readKeyVaultSecret: SecretReader = async (vaultUri, secretName) => {
    const secret = await new SecretClient(vaultUri, new DefaultAzureCredential()).getSecret(secretName);
    return { value: secret.value, contentType: secret.properties.contentType, tags: secret.properties.tags };
};

/** Loads and checks the key the Maskinporten grant is signed with. */
export async function loadSigningKey(
    maskinporten: Pick<MaskinportenConfig, 'key' | 'kid'>,
    options: LoadSigningKeyOptions = {},
): Promise<SigningKey> {
    const source = maskinporten.key;
    const now = options.now?.() ?? new Date();
    if (source.kind === 'inline') {
        return parseSigningKey(source.value, { setting: 'MaskinportenKey', kid: maskinporten.kid, now });
    }
    const where = `Key Vault secret "${source.secretName}" in ${source.vaultUri}`;
    let secret: SecretValue;
    try {
        secret = await (options.readSecret ?? readKeyVaultSecret)(source.vaultUri, source.secretName);
    } catch (error) {
        throw keyVaultError(error, where);
    }
    if (!secret.value?.trim()) throw new ConfigError('MaskinportenSecretName', `${where} is empty`);
    return parseSigningKey(secret.value, {
        setting: 'MaskinportenSecretName',
        describe: where,
        contentType: secret.contentType,
        kid: maskinporten.kid,
        taggedKid: secret.tags?.[kidTag]?.trim() || undefined,
        now,
    });
}

function keyVaultError(error: unknown, where: string): Error {
    const status = (error as { statusCode?: unknown }).statusCode;
    const name = error instanceof Error ? error.name : '';
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    if (status === 404) return new ConfigError('MaskinportenSecretName', `${where} does not exist`);
    if (status === 401 || status === 403) {
        return new ConfigError(
            'MaskinportenKeyVaultUri',
            `reading ${where} was refused (${status}): the function app's identity needs the Key Vault Secrets User role`,
        );
    }
    if (/CredentialUnavailable|Authentication/.test(name)) {
        return new ConfigError('MaskinportenKeyVaultUri', `no Azure identity could read ${where}: ${message}`);
    }
    // Anything else (network, throttling, 5xx) may pass: not a configuration error.
    return new Error(`Could not read ${where}: ${message}`, { cause: error });
}

export interface ParseContext {
    setting: 'MaskinportenKey' | 'MaskinportenSecretName';
    /** How to name the value in errors; defaults to "the key". */
    describe?: string;
    contentType?: string;
    /** MaskinportenKid. */
    kid?: string;
    /** The Key Vault secret's `kid` tag. */
    taggedKid?: string;
    now?: Date;
}

/** Parses a signing key value (PEM, JWK or base64 PKCS#12) and checks that it can sign an RS256 grant. */
export function parseSigningKey(value: string, context: ParseContext): SigningKey {
    const fail = (problem: string) => new ConfigError(context.setting, `${context.describe ?? 'the key'} ${problem}`);
    const text = value.trim();
    if (/pkcs12|pfx/i.test(context.contentType ?? '')) return fromPkcs12(text, context, fail);
    if (text.startsWith('{')) return fromJwk(text, context, fail);
    if (text.includes('-----BEGIN')) return fromPem(text, context, fail);
    if (/^[A-Za-z0-9+/=\s]+$/.test(text)) return fromPkcs12(text, context, fail);
    throw fail('is neither PEM, a private JWK nor a base64 PKCS#12');
}

type Fail = (problem: string) => ConfigError;

function fromPem(text: string, context: ParseContext, fail: Fail): SigningKey {
    // App settings often carry a PEM on one line with literal \n.
    const pem = text.includes('\\n') ? text.replace(/(\\r)?\\n/g, '\n') : text;
    const keys: string[] = [];
    const certificates: X509Certificate[] = [];
    for (const match of pem.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g)) {
        const [block, label] = match;
        if (label === 'ENCRYPTED PRIVATE KEY')
            throw fail('has an encrypted private key; store it without a passphrase');
        if (label.endsWith('PRIVATE KEY')) keys.push(block);
        else if (label === 'CERTIFICATE') certificates.push(readCertificate(block, certificates.length + 1, fail));
    }
    if (keys.length === 0) throw fail('has no private key (expected a PRIVATE KEY or RSA PRIVATE KEY block)');
    if (keys.length > 1) throw fail('has more than one private key');
    return finish(readPrivateKey({ key: keys[0], format: 'pem' }, fail), certificates, undefined, context, fail);
}

function fromJwk(text: string, context: ParseContext, fail: Fail): SigningKey {
    let jwk: Record<string, unknown>;
    try {
        jwk = JSON.parse(text) as Record<string, unknown>;
    } catch {
        // The parser's message quotes the input: never pass it on.
        throw fail('starts like a JWK but is not valid JSON');
    }
    if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw fail('is not a JWK object');
    if (jwk.kty !== 'RSA') throw fail(`is a JWK of kty "${String(jwk.kty)}"; RS256 needs kty "RSA"`);
    if (typeof jwk.d !== 'string') throw fail('is a JWK with no private part (no "d"); the private JWK is needed');
    const x5c = Array.isArray(jwk.x5c) ? jwk.x5c.map((cert, i) => readCertificate(String(cert), i + 1, fail)) : [];
    const privateKey = readPrivateKey({ key: jwk as never, format: 'jwk' }, fail);
    return finish(privateKey, x5c, typeof jwk.kid === 'string' ? jwk.kid : undefined, context, fail);
}

function fromPkcs12(text: string, context: ParseContext, fail: Fail): SigningKey {
    let contents;
    try {
        contents = readPkcs12(text);
    } catch (error) {
        if (error instanceof Pkcs12Error) throw fail(error.message);
        throw error;
    }
    if (contents.privateKeys.length === 0) throw fail('is a PKCS#12 without a private key');
    if (contents.privateKeys.length > 1) throw fail('is a PKCS#12 with more than one private key');
    const certificates = contents.certificates.map((der, i) => readCertificate(der, i + 1, fail));
    return finish(readPrivateKey(contents.privateKeys[0], fail), certificates, undefined, context, fail);
}

function readPrivateKey(input: PrivateKeyInput, fail: Fail): KeyObject {
    try {
        return createPrivateKey(input);
    } catch (error) {
        const code = (error as { code?: unknown }).code;
        throw fail(`has a private key that could not be read${typeof code === 'string' ? ` (${code})` : ''}`);
    }
}

function readCertificate(source: string | Buffer, position: number, fail: Fail): X509Certificate {
    try {
        // A bare x5c entry is base64 DER; PEM and DER buffers are read as they are.
        const input = typeof source === 'string' && !source.includes('-----') ? Buffer.from(source, 'base64') : source;
        return new X509Certificate(input);
    } catch {
        throw fail(`has a certificate (number ${position}) that could not be read`);
    }
}

/** Checks an RSA key of adequate size, puts the certificate of this key first, and applies the kid/x5c rule. */
function finish(
    privateKey: KeyObject,
    certificates: X509Certificate[],
    keyKid: string | undefined,
    context: ParseContext,
    fail: Fail,
): SigningKey {
    if (privateKey.asymmetricKeyType !== 'rsa') {
        throw fail(`is a ${privateKey.asymmetricKeyType ?? 'non-RSA'} key; RS256 needs an RSA key`);
    }
    const bits = privateKey.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) throw fail(`is an RSA key of ${bits} bits; Maskinporten needs at least 2048`);
    // node:crypto does not check that the parts of an RSA key agree; a damaged one would only fail at Maskinporten.
    const probe = Buffer.from('maskinporten-signing-key-check');
    if (!verify('sha256', probe, createPublicKey(privateKey), sign('sha256', probe, privateKey))) {
        throw fail('has a private key that does not work (a test signature did not verify)');
    }

    let chain: X509Certificate[] = [];
    if (certificates.length > 0) {
        const publicKey = createPublicKey(privateKey);
        const leaf = certificates.find((cert) => cert.publicKey.equals(publicKey));
        if (!leaf) throw fail('has a certificate that does not match the private key');
        chain = [leaf, ...certificates.filter((cert) => cert !== leaf)];
        const now = context.now ?? new Date();
        if (new Date(leaf.validTo).getTime() < now.getTime()) {
            throw fail(`has a certificate that expired on ${new Date(leaf.validTo).toISOString()}`);
        }
    }
    // The kid that came with the key material first: a setting lags behind a rotation.
    const [kid, kidFrom] = keyKid
        ? [keyKid, 'key' as const]
        : context.taggedKid
          ? [context.taggedKid, 'secret-tag' as const]
          : context.kid
            ? [context.kid, 'setting' as const]
            : [undefined, undefined];
    if (!kid && chain.length === 0) {
        throw fail(
            'has no CERTIFICATE: without MaskinportenKid (or a kid in the JWK) the grant needs a certificate for x5c',
        );
    }
    return {
        privateKey,
        x5c: chain.length ? chain.map((cert) => cert.raw.toString('base64')) : undefined,
        kid,
        kidFrom,
        certificateExpiresAt: chain.length ? new Date(chain[0].validTo) : undefined,
        alg: 'RS256',
    };
}
