/**
 * The Maskinporten key (inline or from Key Vault, with the app's own identity), a Maskinporten grant
 * with the configured scopes, and the exchange for an Altinn token: the first-day faults outside
 * the code (a certificate that does not belong to the key, a scope the client was never given, a
 * client that is not a service owner) each named in Maskinporten's or Altinn's own words.
 */
import { X509Certificate } from 'node:crypto';
import { AltinnHttpError, problemSummary } from '../altinn/errors';
import { decodeJwtClaims } from '../altinn/jwt';
import { loadSigningKey, type SecretReader, type SigningKey } from '../altinn/signingKey';
import type { AltinnStack } from '../altinn';
import { ConfigError, type AppConfig } from '../config';
import { errorMessage } from '../log';
import { failed, ok, timed, warning, type CheckResult, type Finding } from './report';

const day = 24 * 60 * 60 * 1000;
/** A certificate closer than this to its end is a warning: renewing takes Samarbeidsportalen and Key Vault. */
export const certificateWarningDays = 30;

function keyPlace(config: AppConfig): string {
    const source = config.maskinporten.key;
    return source.kind === 'inline'
        ? 'MaskinportenKey (inline, local development)'
        : `Key Vault secret "${source.secretName}" in ${source.vaultUri}`;
}

export async function checkSigningKey(
    config: AppConfig,
    options: { readSecret?: SecretReader; now: Date },
): Promise<{ results: CheckResult[]; key?: SigningKey }> {
    let key: SigningKey | undefined;
    const where = keyPlace(config);
    const loaded = await timed('key', 'Maskinporten key', async () => {
        try {
            key = await loadSigningKey(config.maskinporten, { readSecret: options.readSecret, now: () => options.now });
        } catch (error) {
            const message = errorMessage(error);
            if (!(error instanceof ConfigError)) return failed(message, 'try again; Key Vault or the network failed');
            const action = /does not match/.test(message)
                ? `store the private key together with its own certificate in ${where}`
                : /refused|identity/.test(message)
                  ? "give the function app's identity the Key Vault Secrets User role on the vault (infra/app/rbac.bicep)"
                  : `fix the key in ${where}`;
            return failed(`${message}; the Maskinporten and Altinn checks did not run`, action);
        }
        const bits = key.privateKey.asymmetricKeyDetails?.modulusLength;
        const form = key.kid ? `kid ${key.kid}` : 'x5c certificate';
        return ok(`${where}: RSA ${bits ?? '?'} bits, the grant carries its ${form}`);
    });
    const results = [loaded];
    if (key) results.push(await timed('key', 'Certificate validity', () => certificateValidity(key!, options.now)));
    return { results, key };
}

function certificateValidity(key: SigningKey, now: Date): Finding {
    const leaf = key.x5c?.[0];
    if (!leaf) {
        return ok(
            `no certificate: Maskinporten holds the public key of kid ${key.kid}; a key registered on a client lasts one year (MP-121 after that)`,
        );
    }
    const certificate = new X509Certificate(Buffer.from(leaf, 'base64'));
    const from = new Date(certificate.validFrom);
    const to = new Date(certificate.validTo);
    const dates = `valid ${from.toISOString().slice(0, 10)} to ${to.toISOString().slice(0, 10)}`;
    const subject = certificate.subject.replace(/\n/g, ', ');
    if (from.getTime() > now.getTime()) {
        return failed(`${subject}: not valid before ${from.toISOString()}`, 'use a certificate that is valid now');
    }
    const daysLeft = Math.floor((to.getTime() - now.getTime()) / day);
    if (daysLeft < certificateWarningDays) {
        return warning(
            `${subject}: ${dates}, expires in ${daysLeft} day(s)`,
            'renew the certificate, register it on the Maskinporten client and put it in Key Vault before it expires',
        );
    }
    return ok(`${subject}: ${dates} (${daysLeft} days left)`);
}

/** What Maskinporten said: its OAuth error and description (MP code), which the operator can look up. */
function maskinportenSaid(error: unknown): { text: string; code?: string } {
    const cause = error instanceof Error ? error.cause : undefined;
    if (!(cause instanceof AltinnHttpError)) return { text: errorMessage(error) };
    const problem = cause.problem;
    const uri = typeof problem?.error_uri === 'string' ? problem.error_uri : '';
    const code = /MP-\d+/.exec(`${uri} ${problem?.error_description ?? ''}`)?.[0];
    const said = problemSummary(problem) ?? cause.bodyText ?? `HTTP ${cause.status ?? cause.code ?? '?'}`;
    return { text: `Maskinporten answered ${cause.status ?? cause.code}: ${said}`, code };
}

function grantAction(config: AppConfig, said: { text: string; code?: string }): string {
    const client = `Maskinporten client ${config.maskinporten.clientId}`;
    if (/invalid_scope/.test(said.text) || said.code === 'MP-200' || said.code === 'MP-201') {
        return `give ${client} the refused scope(s) in Samarbeidsportalen, or remove them from MaskinportenScopes`;
    }
    if (said.code === 'MP-100') return `check MaskinportenClientId and that the client exists in this environment`;
    if (said.code === 'MP-110') return 'set MaskinportenBaseUrl to the Maskinporten environment the client lives in';
    if (said.code?.startsWith('MP-12')) return `register this certificate (or key) on ${client}`;
    if (said.code === 'MP-130') return 'check the clock of the machine that signs the grant';
    return `check ${client} and MaskinportenBaseUrl against Maskinporten's answer`;
}

export async function checkMaskinporten(config: AppConfig, stack: AltinnStack): Promise<CheckResult> {
    return timed('maskinporten', 'Maskinporten grant', async () => {
        try {
            const token = await stack.tokens.getMaskinportenToken({ forceRefresh: true });
            const claims = decodeJwtClaims(token) ?? {};
            const granted = typeof claims.scope === 'string' ? claims.scope : config.maskinporten.scopes.join(' ');
            const consumer = (claims.consumer as { ID?: unknown } | undefined)?.ID;
            return ok(`granted "${granted}"${typeof consumer === 'string' ? ` to ${consumer}` : ''}`);
        } catch (error) {
            const said = maskinportenSaid(error);
            return failed(`${said.text}; the Altinn checks did not run`, grantAction(config, said));
        }
    });
}

export async function checkExchange(config: AppConfig, stack: AltinnStack): Promise<CheckResult & { org?: string }> {
    let org: string | undefined;
    const result = await timed('altinn', 'Altinn token exchange', async () => {
        let token: string;
        try {
            token = await stack.tokens.getAltinnToken({ forceRefresh: true });
        } catch (error) {
            return failed(
                `${errorMessage(error)}; the app, Broker and subscription checks did not run`,
                'check AltinnPlatformBaseUrl, and that Maskinporten and Altinn are the same environment',
            );
        }
        const claims = decodeJwtClaims(token) ?? {};
        const claim = (name: string) => {
            const value = claims[name];
            return typeof value === 'string' ? value : undefined;
        };
        org = claim('urn:altinn:org');
        const number = claim('urn:altinn:orgNumber');
        const test = config.testMode ? ' (test=true)' : '';
        if (!org) {
            return warning(
                `Altinn's token for organisation ${number ?? '?'}${test} carries no org (urn:altinn:org): Altinn does not take this client for a service owner`,
                'ask for the altinn:serviceowner scopes for the client; the organisation must be an Altinn service owner',
            );
        }
        return ok(`an Altinn token for org ${org} (${number ?? '?'})${test}`);
    });
    return { ...result, org };
}
