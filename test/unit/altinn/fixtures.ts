/** Keys and certificates made on the fly for tests: nothing secret is ever committed. */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

export interface TestKey {
    privateKey: KeyObject;
    publicKey: KeyObject;
}

const cache = new Map<number, TestKey>();

/** An RSA key pair; the same one per size within a test file, since generating is slow-ish. */
export function rsaKey(bits = 2048, fresh = false): TestKey {
    const existing = cache.get(bits);
    if (existing && !fresh) return existing;
    const pair = generateKeyPairSync('rsa', { modulusLength: bits });
    if (!fresh) cache.set(bits, pair);
    return pair;
}

export interface CertificateOptions {
    commonName?: string;
    notBefore?: Date;
    notAfter?: Date;
    /** Sign with this key instead of self-signing (issuer = issuerName). */
    issuer?: { privateKey: KeyObject; name: string };
}

/** A certificate (PEM) for `key`, self-signed unless an issuer is given. */
export function certificatePem(key: TestKey, options: CertificateOptions = {}): string {
    const cert = forge.pki.createCertificate();
    const forgePrivate = forge.pki.privateKeyFromPem(key.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string);
    cert.publicKey = forge.pki.setRsaPublicKey(forgePrivate.n, forgePrivate.e);
    cert.serialNumber = String(Date.now() % 1_000_000_000);
    cert.validity.notBefore = options.notBefore ?? new Date(Date.now() - 3600_000);
    cert.validity.notAfter = options.notAfter ?? new Date(Date.now() + 365 * 24 * 3600_000);
    cert.setSubject([{ name: 'commonName', value: options.commonName ?? 'aos-test' }]);
    cert.setIssuer([{ name: 'commonName', value: options.issuer?.name ?? options.commonName ?? 'aos-test' }]);
    const signer = options.issuer?.privateKey ?? key.privateKey;
    cert.sign(
        forge.pki.privateKeyFromPem(signer.export({ type: 'pkcs1', format: 'pem' }) as string),
        forge.md.sha256.create(),
    );
    return forge.pki.certificateToPem(cert);
}

export function pkcs8Pem(key: TestKey): string {
    return key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
}

export function pkcs1Pem(key: TestKey): string {
    return key.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
}

/** Base64 DER of a PEM certificate, as x5c carries it. */
export function derBase64(certPem: string): string {
    return certPem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
}

/** A base64 PKCS#12 like Key Vault returns for an imported certificate (password null: none at all). */
export function pkcs12Base64(key: TestKey, certPems: string[], password: string | null = ''): string {
    const asn1 = forge.pkcs12.toPkcs12Asn1(
        forge.pki.privateKeyFromPem(pkcs1Pem(key)),
        certPems.map((pem) => forge.pki.certificateFromPem(pem)),
        password,
        { algorithm: '3des' },
    );
    return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary').toString('base64');
}

/** Every long base64-ish run of `input`: none may appear in an error message. */
export function secretFragments(input: string): string[] {
    return [...input.matchAll(/[A-Za-z0-9+/_-]{16,}/g)].map((match) => match[0].slice(0, 16));
}
