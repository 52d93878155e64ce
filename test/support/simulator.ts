import { generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { SignJWT, type JWTHeaderParameters } from 'jose';
import forge from 'node-forge';
import { type RsaAlg } from '../../dev/simulator/jwt';
import { startSimulator, type Simulator } from '../../dev/simulator/simulator';
import { type ClientRegistration, type SimulatorOptions } from '../../dev/simulator/types';

/*
 * Helpers for tests that run against the Altinn simulator: a simulator with test-friendly timing,
 * client keys and certificates made on the spot, signed Maskinporten grants, the whole
 * grant + exchange flow, and a small webhook receiver.
 */

export const SERVICEOWNER_SCOPES = ['altinn:serviceowner/instances.read', 'altinn:serviceowner/instances.write'];

/** Retry delays x0.001, the query API without its 30 s visibility delay, logging only with SIM_LOG=1. */
export function startTestSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
    return startSimulator({
        timeScale: 0.001,
        eventsQueryDelaySeconds: 0,
        log: process.env.SIM_LOG ? (line) => console.log(line) : undefined,
        ...options,
    });
}

export interface ClientCredentials {
    clientId: string;
    privateKey: KeyObject;
    publicKey: KeyObject;
    /** Self-signed certificate for the key (PEM), for x5c grants. */
    certificatePem: string;
    /** base64 DER of the certificate, the x5c entry. */
    certificateDer: string;
    kid: string;
    publicJwk: Record<string, unknown>;
}

/** A fresh RSA key (native, fast) and a self-signed certificate for it (node-forge). */
export function createClientCredentials(
    clientId: string = randomUUID(),
    validity: { notBefore?: Date; notAfter?: Date } = {},
): ClientCredentials {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const cert = forge.pki.createCertificate();
    cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
    cert.serialNumber = `01${randomBytes(8).toString('hex')}`;
    cert.validity.notBefore = validity.notBefore ?? new Date(Date.now() - 60_000);
    cert.validity.notAfter = validity.notAfter ?? new Date(Date.now() + 365 * 24 * 3600 * 1000);
    const attrs = [
        { name: 'commonName', value: `Test client ${clientId}` },
        { name: 'organizationName', value: 'Testdepartementet' },
        { shortName: 'C', value: 'NO' },
    ];
    cert.setSubject(attrs);
    cert.setIssuer(attrs);
    cert.sign(
        forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()),
        forge.md.sha256.create(),
    );
    const certificatePem = forge.pki.certificateToPem(cert);
    const certificateDer = Buffer.from(
        forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(),
        'binary',
    ).toString('base64');
    const kid = `kid-${randomUUID()}`;
    return {
        clientId,
        privateKey,
        publicKey,
        certificatePem,
        certificateDer,
        kid,
        publicJwk: { ...publicKey.export({ format: 'jwk' }), kid },
    };
}

export function clientRegistration(
    creds: ClientCredentials,
    scopes: string[],
    extra: Partial<ClientRegistration> = {},
): ClientRegistration {
    return {
        clientId: creds.clientId,
        scopes,
        certificate: creds.certificatePem,
        keys: [{ kid: creds.kid, jwk: creds.publicJwk }],
        ...extra,
    };
}

export interface GrantOptions {
    /** 'x5c' (default): certificate in the header; 'kid': the registered key id. */
    mode?: 'x5c' | 'kid';
    alg?: RsaAlg;
    aud: string;
    scopes: string[];
    iss?: string;
    iat?: number;
    exp?: number;
    /** null leaves jti out. */
    jti?: string | null;
    claims?: Record<string, unknown>;
    /** Merged over the header; a key set to undefined is left out. */
    header?: Partial<JWTHeaderParameters>;
    signingKey?: KeyObject;
}

/** A JWT-bearer grant as the AOS (x5c) or Altinn's client (kid) builds it. */
export function signGrant(creds: ClientCredentials, options: GrantOptions): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const iat = options.iat ?? now;
    const header: JWTHeaderParameters = { alg: options.alg ?? 'RS256' };
    if ((options.mode ?? 'x5c') === 'x5c') {
        header.x5c = [creds.certificateDer];
    } else {
        header.kid = creds.kid;
    }
    const payload: Record<string, unknown> = {
        aud: options.aud,
        iss: options.iss ?? creds.clientId,
        scope: options.scopes.join(' '),
        iat,
        exp: options.exp ?? iat + 10,
        ...(options.jti === null ? {} : { jti: options.jti ?? randomUUID() }),
        ...options.claims,
    };
    return new SignJWT(payload)
        .setProtectedHeader({ ...header, ...options.header })
        .sign(options.signingKey ?? creds.privateKey);
}

export async function postGrant(sim: Simulator, assertion: string): Promise<Response> {
    return fetch(`${sim.maskinportenUrl}/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }).toString(),
    });
}

export async function maskinportenToken(sim: Simulator, creds: ClientCredentials, scopes: string[]): Promise<string> {
    const response = await postGrant(sim, await signGrant(creds, { aud: `${sim.maskinportenUrl}/`, scopes }));
    if (response.status !== 200) {
        throw new Error(`grant failed: ${response.status} ${await response.text()}`);
    }
    return ((await response.json()) as { access_token: string }).access_token;
}

/** Grant + exchange, as the AOS does it: the Altinn token. */
export async function altinnToken(sim: Simulator, creds: ClientCredentials, scopes: string[]): Promise<string> {
    const mp = await maskinportenToken(sim, creds, scopes);
    const response = await fetch(`${sim.platformUrl}/authentication/api/v1/exchange/maskinporten`, {
        headers: { Authorization: `Bearer ${mp}`, Accept: 'application/json' },
    });
    if (response.status !== 200) {
        throw new Error(`exchange failed: ${response.status}`);
    }
    return (await response.json()) as string;
}

let sharedCredentials: ClientCredentials | undefined;

/** Credentials shared by the tests of one process (RSA key generation is the slow part). */
export function sharedClientCredentials(): ClientCredentials {
    sharedCredentials ??= createClientCredentials('shared-test-client');
    return sharedCredentials;
}

/** Registers the shared test client with these scopes and returns an Altinn token for it (grant + exchange). */
export async function registeredAltinnToken(sim: Simulator, scopes: string[] = SERVICEOWNER_SCOPES): Promise<string> {
    const creds = sharedClientCredentials();
    await sim.control.registerClient(clientRegistration(creds, scopes));
    return altinnToken(sim, creds, scopes);
}

export interface ReceivedRequest {
    method: string;
    url: string;
    headers: IncomingHttpHeaders;
    body: string;
    at: number;
}

export interface Receiver {
    /** http://127.0.0.1:{port} */
    url: string;
    received: ReceivedRequest[];
    /** Status for each next request, in order; afterwards `defaultStatus`. */
    respond: number[];
    defaultStatus: number;
    /** Delay before answering, ms. */
    delayMs: number;
    waitFor(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
    stop(): Promise<void>;
}

/** A webhook endpoint that records every request and answers the scripted statuses. */
export async function startReceiver(): Promise<Receiver> {
    const receiver: Receiver = {
        url: '',
        received: [],
        respond: [],
        defaultStatus: 200,
        delayMs: 0,
        waitFor: (count, timeoutMs = 5000) =>
            waitUntil(
                () => (receiver.received.length >= count ? receiver.received : undefined),
                timeoutMs,
                `${count} requests`,
            ),
        stop: () =>
            new Promise<void>((resolve) => {
                server.close(() => resolve());
                server.closeAllConnections();
            }),
    };
    const server: Server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('error', () => undefined);
        req.on('end', () => {
            receiver.received.push({
                method: req.method ?? '',
                url: req.url ?? '',
                headers: req.headers,
                body: Buffer.concat(chunks).toString('utf8'),
                at: Date.now(),
            });
            const status = receiver.respond.shift() ?? receiver.defaultStatus;
            setTimeout(() => {
                res.writeHead(status, { 'Content-Type': 'text/plain' });
                res.end('ok');
            }, receiver.delayMs);
        });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return receiver;
}

/** Polls until `probe` returns something other than undefined. */
export async function waitUntil<T>(
    probe: () => T | undefined | Promise<T | undefined>,
    timeoutMs = 5000,
    what = 'condition',
): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const value = await probe();
        if (value !== undefined) {
            return value;
        }
        if (Date.now() > deadline) {
            throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
        }
        await new Promise((r) => setTimeout(r, 10));
    }
}

export function bearer(token: string): Record<string, string> {
    return { Authorization: `Bearer ${token}` };
}

/**
 * The settings that point the functions at a test simulator as the given client: origins, client
 * id, scopes, and its key with certificate inline (MaskinportenKey); Key Vault settings blanked so
 * that nothing from a developer's local.settings.json leaks in.
 */
export function clientSettings(sim: Simulator, creds: ClientCredentials, scopes: string[]): Record<string, string> {
    return {
        AltinnPlatformBaseUrl: sim.platformUrl,
        AltinnAppsBaseUrl: sim.appsUrl,
        MaskinportenBaseUrl: sim.maskinportenUrl,
        ...clientKeySettings(creds, scopes),
        MaskinportenKeyVaultUri: '',
        MaskinportenSecretName: '',
    };
}

/** Only the client part: id, scopes and MaskinportenKey (PEM key followed by the certificate). */
export function clientKeySettings(creds: ClientCredentials, scopes: string[]): Record<string, string> {
    return {
        MaskinportenClientId: creds.clientId,
        MaskinportenScopes: scopes.join(' '),
        MaskinportenKey: `${creds.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()}${creds.certificatePem}`,
    };
}
