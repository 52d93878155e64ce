import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { ConfigError } from '../../../shared/config';
import { loadSigningKey, parseSigningKey, type SigningKey } from '../../../shared/altinn/signingKey';
import {
    certificatePem,
    derBase64,
    pkcs12Base64,
    pkcs1Pem,
    pkcs8Pem,
    rsaKey,
    secretFragments,
    type TestKey,
} from './fixtures';

const inline = { setting: 'MaskinportenKey' } as const;

function expectSignsFor(key: SigningKey, owner: TestKey): void {
    const signature = sign('sha256', Buffer.from('grant'), key.privateKey);
    expect(verify('sha256', Buffer.from('grant'), owner.publicKey, signature)).toBe(true);
    expect(key.alg).toBe('RS256');
}

/** Parses `value`, expects a ConfigError naming `setting` and saying `problem`, with no key material in it. */
function expectConfigError(
    value: string,
    problem: RegExp,
    context: Parameters<typeof parseSigningKey>[1] = inline,
): ConfigError {
    let caught: unknown;
    try {
        parseSigningKey(value, context);
    } catch (error) {
        caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ConfigError;
    expect(error.setting).toBe(context.setting);
    expect(error.message).toContain(context.setting);
    expect(error.message).toMatch(problem);
    for (const fragment of secretFragments(value)) expect(error.message).not.toContain(fragment);
    return error;
}

describe('PEM', () => {
    const key = rsaKey();
    const cert = certificatePem(key);

    it('reads a PKCS#8 key with its certificate into x5c', () => {
        const parsed = parseSigningKey(`${pkcs8Pem(key)}\n${cert}`, inline);
        expectSignsFor(parsed, key);
        expect(parsed.x5c).toEqual([derBase64(cert)]);
        expect(parsed.kid).toBeUndefined();
    });

    it('reads a PKCS#1 key and puts the leaf first whatever the order of the chain', () => {
        const ca = rsaKey(2048, true);
        const caCert = certificatePem(ca, { commonName: 'test-ca' });
        const leaf = certificatePem(key, {
            commonName: 'leaf',
            issuer: { privateKey: ca.privateKey, name: 'test-ca' },
        });
        const parsed = parseSigningKey(`${caCert}${pkcs1Pem(key)}${leaf}`, inline);
        expectSignsFor(parsed, key);
        expect(parsed.x5c).toEqual([derBase64(leaf), derBase64(caCert)]);
    });

    it('accepts a one-line value with literal \\n, as app settings often hold it', () => {
        const oneLine = `${pkcs8Pem(key)}${cert}`.replace(/\n/g, '\\n');
        expect(parseSigningKey(oneLine, inline).x5c).toEqual([derBase64(cert)]);
    });

    it('uses MaskinportenKid instead of a certificate', () => {
        const parsed = parseSigningKey(pkcs8Pem(key), { ...inline, kid: 'aos-2026-01' });
        expect(parsed.kid).toBe('aos-2026-01');
        expect(parsed.x5c).toBeUndefined();
    });

    it('refuses a key without certificate when no kid is set', () => {
        expectConfigError(pkcs8Pem(key), /no CERTIFICATE.*MaskinportenKid/);
    });

    it('refuses a certificate of another key', () => {
        expectConfigError(`${pkcs8Pem(key)}${certificatePem(rsaKey(2048, true))}`, /does not match the private key/);
    });

    it('refuses an expired certificate', () => {
        const expired = certificatePem(key, { notBefore: new Date('2020-01-01'), notAfter: new Date('2021-01-01') });
        expectConfigError(`${pkcs8Pem(key)}${expired}`, /expired on 2021-01-01/);
    });

    it('refuses a value without private key', () => {
        expectConfigError(cert, /no private key/);
    });

    it('refuses an encrypted private key', () => {
        const encrypted = key.privateKey.export({
            type: 'pkcs8',
            format: 'pem',
            cipher: 'aes-256-cbc',
            passphrase: 'x',
        }) as string;
        expectConfigError(`${encrypted}${cert}`, /encrypted/);
    });

    it('refuses a truncated private key without quoting it', () => {
        const lines = pkcs8Pem(key).split('\n');
        const truncated = [...lines.slice(0, 5), ...lines.slice(-3)].join('\n');
        expectConfigError(`${truncated}${cert}`, /private key that could not be read/);
    });

    it('refuses a private key whose parts do not agree', () => {
        const jwk = key.privateKey.export({ format: 'jwk' });
        const other = rsaKey(2048, true).privateKey.export({ format: 'jwk' });
        expectConfigError(JSON.stringify({ ...jwk, d: other.d, dp: other.dp, kid: 'k' }), /does not work/);
    });

    it('refuses a non-RSA key and a short RSA key', () => {
        const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
        expectConfigError(ec.export({ type: 'pkcs8', format: 'pem' }) as string, /ec key; RS256 needs an RSA key/);
        expectConfigError(pkcs8Pem(rsaKey(1024)), /1024 bits.*at least 2048/);
    });

    it('refuses something that is no key at all', () => {
        expectConfigError('not a key, just text!', /neither PEM, a private JWK nor a base64 PKCS#12/);
    });
});

describe('JWK', () => {
    const key = rsaKey();
    const jwk = { ...key.privateKey.export({ format: 'jwk' }), kid: 'jwk-kid' };

    it('reads a private JWK and takes its kid', () => {
        const parsed = parseSigningKey(JSON.stringify(jwk), inline);
        expectSignsFor(parsed, key);
        expect(parsed.kid).toBe('jwk-kid');
    });

    it("keeps the JWK's own kid over MaskinportenKid, which lags behind a rotation", () => {
        const parsed = parseSigningKey(JSON.stringify(jwk), { ...inline, kid: 'configured', taggedKid: 'tagged' });
        expect(parsed).toMatchObject({ kid: 'jwk-kid', kidFrom: 'key' });
    });

    it("takes the Key Vault secret's kid tag over MaskinportenKid for a key that carries none", () => {
        const pem = pkcs8Pem(key);
        expect(parseSigningKey(pem, { ...inline, kid: 'configured', taggedKid: 'tagged' })).toMatchObject({
            kid: 'tagged',
            kidFrom: 'secret-tag',
        });
        expect(parseSigningKey(pem, { ...inline, kid: 'configured' })).toMatchObject({
            kid: 'configured',
            kidFrom: 'setting',
        });
    });

    it('takes x5c from the JWK when it has no kid', () => {
        const cert = certificatePem(key);
        const parsed = parseSigningKey(JSON.stringify({ ...jwk, kid: undefined, x5c: [derBase64(cert)] }), inline);
        expect(parsed.kid).toBeUndefined();
        expect(parsed.x5c).toEqual([derBase64(cert)]);
    });

    it('refuses a public JWK', () => {
        const publicJwk = createPublicKey(key.privateKey).export({ format: 'jwk' });
        expectConfigError(JSON.stringify(publicJwk), /JWK with no private part/);
    });

    it('refuses a JWK without kid or certificate', () => {
        expectConfigError(JSON.stringify({ ...jwk, kid: undefined }), /no CERTIFICATE/);
    });

    it('refuses broken JSON without quoting it', () => {
        expectConfigError(JSON.stringify(jwk).slice(0, -10), /not valid JSON/);
    });

    it('refuses a JWK of another key type', () => {
        const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
        expectConfigError(JSON.stringify(ec), /kty "EC"/);
    });
});

describe('PKCS#12 (Key Vault certificate)', () => {
    const key = rsaKey();
    const cert = certificatePem(key);
    const keyVault = { setting: 'MaskinportenSecretName', contentType: 'application/x-pkcs12' } as const;

    it.each([
        ['an empty password', ''],
        ['no password', null],
    ])('reads a PKCS#12 with %s', (_label, password) => {
        const parsed = parseSigningKey(pkcs12Base64(key, [cert], password), keyVault);
        expectSignsFor(parsed, key);
        expect(parsed.x5c).toEqual([derBase64(cert)]);
    });

    it('recognises base64 PKCS#12 without a content type', () => {
        expect(parseSigningKey(pkcs12Base64(key, [cert]), inline).x5c).toEqual([derBase64(cert)]);
    });

    it('refuses a password-protected PKCS#12', () => {
        expectConfigError(pkcs12Base64(key, [cert], 'secret'), /password-protected/, keyVault);
    });

    it('refuses a PKCS#12 whose certificate belongs to another key', () => {
        expectConfigError(pkcs12Base64(key, [certificatePem(rsaKey(2048, true))]), /does not match/, keyVault);
    });

    it('refuses base64 that is not PKCS#12', () => {
        expectConfigError(Buffer.from('hello world, not a pfx').toString('base64'), /PKCS#12|base64/, keyVault);
    });
});

describe('loadSigningKey', () => {
    const key = rsaKey();
    const cert = certificatePem(key);
    const vault = { kind: 'keyVault', vaultUri: 'https://kv-aos.vault.azure.net', secretName: 'mp-key' } as const;

    it('reads the inline MaskinportenKey', async () => {
        const value = `${pkcs8Pem(key)}${cert}`;
        const parsed = await loadSigningKey({ key: { kind: 'inline', setting: 'MaskinportenKey', value } });
        expect(parsed.x5c).toEqual([derBase64(cert)]);
    });

    it('reads a Key Vault certificate secret', async () => {
        const readSecret = jest.fn(() =>
            Promise.resolve({ value: pkcs12Base64(key, [cert]), contentType: 'application/x-pkcs12' }),
        );
        const parsed = await loadSigningKey({ key: vault }, { readSecret });
        expect(readSecret).toHaveBeenCalledWith(vault.vaultUri, 'mp-key');
        expectSignsFor(parsed, key);
    });

    it('names the Key Vault settings when the secret is missing, refused, empty or malformed', async () => {
        const failWith = (statusCode: number) => () => Promise.reject(Object.assign(new Error('nope'), { statusCode }));
        await expect(loadSigningKey({ key: vault }, { readSecret: failWith(404) })).rejects.toMatchObject({
            setting: 'MaskinportenSecretName',
            message: expect.stringMatching(/"mp-key".*does not exist/) as unknown,
        });
        await expect(loadSigningKey({ key: vault }, { readSecret: failWith(403) })).rejects.toMatchObject({
            setting: 'MaskinportenKeyVaultUri',
            message: expect.stringMatching(/Key Vault Secrets User/) as unknown,
        });
        await expect(
            loadSigningKey({ key: vault }, { readSecret: () => Promise.resolve({ value: ' ' }) }),
        ).rejects.toMatchObject({
            setting: 'MaskinportenSecretName',
            message: expect.stringMatching(/empty/) as unknown,
        });
        const publicOnly = JSON.stringify(createPublicKey(key.privateKey).export({ format: 'jwk' }));
        await expect(
            loadSigningKey({ key: vault }, { readSecret: () => Promise.resolve({ value: publicOnly }) }),
        ).rejects.toMatchObject({
            setting: 'MaskinportenSecretName',
            message: expect.stringMatching(/Key Vault secret "mp-key".*no private part/) as unknown,
        });
    });

    it('does not call a Key Vault outage a configuration error', async () => {
        const outage = () => Promise.reject(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
        const error = await loadSigningKey({ key: vault }, { readSecret: outage }).catch((e: unknown) => e);
        expect(error).not.toBeInstanceOf(ConfigError);
        expect((error as Error).message).toMatch(/Could not read Key Vault secret "mp-key".*socket hang up/);
    });
});
