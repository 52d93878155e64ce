/**
 * The development Maskinporten client: an RSA key and a self-signed certificate generated once
 * into the git-ignored data folder, registered with the simulator, and handed to the functions
 * as MaskinportenKey. It is not, and can never become, a production key.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';

export const devClientId = 'local-dev-client';
export const devScopes = [
    'altinn:serviceowner/instances.read',
    'altinn:serviceowner/instances.write',
    'altinn:broker.read',
    'altinn:broker.write',
    'altinn:events.subscribe',
];

export interface DevClient {
    clientId: string;
    scopes: string[];
    /** PEM private key followed by the certificate: the MaskinportenKey format. */
    maskinportenKey: string;
    certificatePem: string;
}

function generate(): { keyPem: string; certificatePem: string } {
    const keys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
    const certificate = forge.pki.createCertificate();
    certificate.publicKey = keys.publicKey;
    certificate.serialNumber = `01${forge.util.bytesToHex(forge.random.getBytesSync(8))}`;
    certificate.validity.notBefore = new Date(Date.now() - 60_000);
    certificate.validity.notAfter = new Date(Date.now() + 5 * 365 * 24 * 3600 * 1000);
    const subject = [
        { name: 'commonName', value: 'Local development client (not for production)' },
        { name: 'organizationName', value: 'Testdepartementet' },
    ];
    certificate.setSubject(subject);
    certificate.setIssuer(subject);
    certificate.sign(keys.privateKey, forge.md.sha256.create());
    return {
        keyPem: forge.pki.privateKeyInfoToPem(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(keys.privateKey))),
        certificatePem: forge.pki.certificateToPem(certificate),
    };
}

export function ensureDevClient(dataDir: string): DevClient {
    const folder = join(dataDir, 'dev-client');
    const keyPath = join(folder, 'key.pem');
    const certificatePath = join(folder, 'certificate.pem');
    if (!existsSync(keyPath) || !existsSync(certificatePath)) {
        mkdirSync(folder, { recursive: true });
        const { keyPem, certificatePem } = generate();
        writeFileSync(keyPath, keyPem, { mode: 0o600 });
        writeFileSync(certificatePath, certificatePem);
    }
    const keyPem = readFileSync(keyPath, 'utf8');
    const certificatePem = readFileSync(certificatePath, 'utf8');
    return { clientId: devClientId, scopes: devScopes, maskinportenKey: `${keyPem}${certificatePem}`, certificatePem };
}

/**
 * The settings that point the functions at a running simulator with the development client. The
 * Key Vault settings are blanked: the environment wins over local.settings.json, where a developer
 * may have set them.
 */
export function simulatorSettings(
    sim: { platformUrl: string; appsUrl: string; maskinportenUrl: string },
    client: DevClient,
): Record<string, string> {
    return {
        AltinnPlatformBaseUrl: sim.platformUrl,
        AltinnAppsBaseUrl: sim.appsUrl,
        MaskinportenBaseUrl: sim.maskinportenUrl,
        MaskinportenClientId: client.clientId,
        MaskinportenScopes: client.scopes.join(' '),
        MaskinportenKey: client.maskinportenKey,
        MaskinportenKeyVaultUri: '',
        MaskinportenSecretName: '',
    };
}
