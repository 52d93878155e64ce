import { loadConfig } from '../../../shared/config';
import { formatFields, type StepLogger } from '../../../shared/log';
import { kidTag, loadSigningKey, type SecretReader, type SecretValue } from '../../../shared/altinn/signingKey';
import { createTokenProvider, type MaskinportenTokenProvider } from '../../../shared/altinn/tokens';
import type { Simulator } from '../../../dev/simulator/simulator';
import {
    clientRegistration,
    createClientCredentials,
    SERVICEOWNER_SCOPES,
    startTestSimulator,
    type ClientCredentials,
} from '../../support/simulator';

/*
 * Key rotation without a window (issue 20 item 7), against the simulator's Maskinporten, which
 * accepts a kid grant only when the key with that kid on the client verifies its signature: the
 * new key goes into Key Vault as a new version of the same secret carrying its kid (a tag), while
 * MaskinportenKid still names the old key (the setting changes only at the next provision). The
 * "vault" here is the secret's versions in memory, read through the same SecretReader seam the
 * Key Vault client fills in Azure (getSecret: the latest version, its content type and tags).
 */

jest.setTimeout(60_000);

let sim: Simulator;
let oldKey: ClientCredentials;
let newKey: ClientCredentials;
const clientId = 'rotating-client';

/** One secret, its versions newest last. */
class VaultSecret {
    readonly versions: SecretValue[] = [];
    readonly read: SecretReader = () => Promise.resolve(this.versions[this.versions.length - 1]);
    put(value: SecretValue): void {
        this.versions.push(value);
    }
}

const pem = (creds: ClientCredentials) => creds.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

/** Lines a provider logged, as they would reach Application Insights. */
function capture(): { logger: StepLogger; lines: string[] } {
    const lines: string[] = [];
    const push = (...args: unknown[]) => lines.push(args.map(String).join(' '));
    return { logger: { info: push, warn: push, error: push }, lines };
}

function instance(vault: VaultSecret, keyMaxAgeMs?: number): MaskinportenTokenProvider & { lines: string[] } {
    const config = loadConfig({
        AltinnPlatformBaseUrl: sim.platformUrl,
        AltinnAppsBaseUrl: sim.appsUrl,
        MaskinportenBaseUrl: sim.maskinportenUrl,
        MaskinportenClientId: clientId,
        MaskinportenScopes: SERVICEOWNER_SCOPES.join(' '),
        MaskinportenKeyVaultUri: 'https://kv-rotation.vault.azure.net',
        MaskinportenSecretName: 'maskinporten-key',
        // The setting still names the old key throughout: it is what lags behind a rotation.
        MaskinportenKid: oldKey.kid,
    });
    const { logger, lines } = capture();
    const provider = createTokenProvider(config, {
        logger,
        keyMaxAgeMs,
        signingKey: () => loadSigningKey(config.maskinporten, { readSecret: vault.read }),
    });
    return Object.assign(provider, { lines });
}

const kidsGranted = (lines: string[]) =>
    lines.filter((line) => line.startsWith('step=maskinporten-token ')).map((line) => /\bkid=(\S+)/.exec(line)?.[1]);

async function register(...keys: ClientCredentials[]): Promise<void> {
    await sim.control.registerClient(
        clientRegistration(oldKey, SERVICEOWNER_SCOPES, {
            clientId,
            certificate: undefined,
            keys: keys.map((creds) => ({ kid: creds.kid, jwk: creds.publicJwk })),
        }),
    );
}

beforeAll(async () => {
    sim = await startTestSimulator();
    oldKey = createClientCredentials(clientId);
    newKey = createClientCredentials(clientId);
});

afterAll(async () => {
    await sim?.stop();
});

describe('rotating the Maskinporten key', () => {
    it('keeps old and new key valid across the switch, and every instance moves to the new kid by itself', async () => {
        const vault = new VaultSecret();
        vault.put({ value: pem(oldKey), tags: { [kidTag]: oldKey.kid } });
        await register(oldKey);
        // An instance that started before the switch; it reads the key again once it is two seconds old.
        const running = instance(vault, 2_000);
        await running.getAltinnToken();
        expect(kidsGranted(running.lines)).toEqual([oldKey.kid]);

        // 1. Maskinporten accepts the new key beside the old one. 2. The new key is a new version with its kid.
        await register(oldKey, newKey);
        vault.put({ value: pem(newKey), tags: { [kidTag]: newKey.kid } });

        // The running instance still holds the old key, which is still valid: no window.
        await running.getAltinnToken({ forceRefresh: true });
        expect(kidsGranted(running.lines)).toEqual([oldKey.kid, oldKey.kid]);

        // A new instance signs with the new key under the new kid, although MaskinportenKid still names the old one.
        const started = instance(vault);
        await started.getAltinnToken({ forceRefresh: true });
        expect(kidsGranted(started.lines)).toEqual([newKey.kid]);
        expect(started.lines).toContainEqual(formatFields('signing-key', { kid: newKey.kid, kidFrom: 'secret-tag' }));

        // Once its key is older than the maximum age, the running one loads the new version by itself, without a restart.
        await new Promise((resolve) => setTimeout(resolve, 2_100));
        await running.getAltinnToken({ forceRefresh: true });
        expect(kidsGranted(running.lines)).toEqual([oldKey.kid, oldKey.kid, newKey.kid]);

        // 3. The old key is retired: both instances keep getting tokens.
        await register(newKey);
        await running.getAltinnToken({ forceRefresh: true });
        await started.getAltinnToken({ forceRefresh: true });
        expect(kidsGranted(running.lines).at(-1)).toBe(newKey.kid);
        expect(kidsGranted(started.lines).at(-1)).toBe(newKey.kid);
    });

    it('would have had a window with the kid taken from the setting: Maskinporten refuses the new key under the old kid', async () => {
        const vault = new VaultSecret();
        await register(oldKey, newKey);
        // The new key without its kid: MaskinportenKid (the old kid) is all there is.
        vault.put({ value: pem(newKey) });
        const lagging = instance(vault);
        await expect(lagging.getAltinnToken()).rejects.toThrow(/MP-1\d\d|invalid_grant|signature/i);
        expect(lagging.lines).toContainEqual(formatFields('signing-key', { kid: oldKey.kid, kidFrom: 'setting' }));
    });

    it('takes the kid of a JWK key over the setting as well', async () => {
        const vault = new VaultSecret();
        await register(oldKey, newKey);
        vault.put({ value: JSON.stringify({ ...newKey.privateKey.export({ format: 'jwk' }), kid: newKey.kid }) });
        const provider = instance(vault);
        await provider.getAltinnToken();
        expect(kidsGranted(provider.lines)).toEqual([newKey.kid]);
    });

    it('keeps the key it has when a reload fails, and says so', async () => {
        const vault = new VaultSecret();
        await register(oldKey, newKey);
        vault.put({ value: pem(oldKey), tags: { [kidTag]: oldKey.kid } });
        const provider = instance(vault, 0);
        await provider.getAltinnToken();
        vault.put({ value: '' }); // a broken new version
        await provider.getAltinnToken({ forceRefresh: true });
        expect(kidsGranted(provider.lines)).toEqual([oldKey.kid, oldKey.kid]);
        expect(provider.lines).toContainEqual(expect.stringMatching(/^step=signing-key-reload-failed kid=\S+ error=/));
    });

    it('logs the certificate expiry each time it loads a certificate key, for the certificate-expiring alert', async () => {
        const expiring = createClientCredentials('certificate-client', {
            notAfter: new Date(Date.now() + 20 * 24 * 3600 * 1000),
        });
        await sim.control.registerClient(clientRegistration(expiring, SERVICEOWNER_SCOPES, { keys: [] }));
        const { logger, lines } = capture();
        const config = loadConfig({
            AltinnPlatformBaseUrl: sim.platformUrl,
            AltinnAppsBaseUrl: sim.appsUrl,
            MaskinportenBaseUrl: sim.maskinportenUrl,
            MaskinportenClientId: expiring.clientId,
            MaskinportenScopes: SERVICEOWNER_SCOPES.join(' '),
            MaskinportenKey: `${pem(expiring)}${expiring.certificatePem}`,
        });
        await createTokenProvider(config, { logger }).getAltinnToken();
        const line = lines.find((candidate) => candidate.startsWith('step=signing-key '));
        expect(line).toMatch(/^step=signing-key certificateExpiresAt=\S+Z certificateExpiresInDays=19\.9$/);
    });
});
