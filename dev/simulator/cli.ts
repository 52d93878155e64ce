import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensureDevClient } from '../devClient';
import { startSimulator } from './simulator';

/*
 * `npm run sim`: the simulator on fixed ports for the local stack.
 *   --platform-port 5101 --apps-port 5102 --maskinporten-port 5103 --host 127.0.0.1
 *   --org ttd --org-number 405003309 --time-scale 1 --events-query-delay 30 --quiet
 *   --broker-resources ttd-demo-broker (comma separated; registered in Broker from the start)
 * Maskinporten clients are registered through POST {platform}/sim/clients.
 */

const usage = `Usage: npm run sim -- [--platform-port N] [--apps-port N] [--maskinporten-port N] [--host H]
                      [--org ttd] [--org-number 405003309] [--time-scale 1] [--events-query-delay 30] [--events-base-uri "{platform}/"] [--quiet]
                      [--broker-resources ttd-demo-broker] (Broker resources registered from the start)
                      [--data-dir .local] (where the development Maskinporten key is kept)
                      [--write-local-settings] (put these origins and the development key into local.settings.json)`;

/** Merges the simulator's settings into local.settings.json (git-ignored), starting from the sample. */
function writeLocalSettings(repoRoot: string, values: Record<string, string>): string {
    const file = join(repoRoot, 'local.settings.json');
    const base = existsSync(file) ? file : join(repoRoot, 'local.settings.sample.json');
    const settings = JSON.parse(readFileSync(base, 'utf8')) as { Values?: Record<string, string> };
    settings.Values = { ...settings.Values, ...values, MaskinportenKeyVaultUri: '', MaskinportenSecretName: '' };
    writeFileSync(file, `${JSON.stringify(settings, null, 4)}\n`, { mode: 0o600 });
    return file;
}

function parseArgs(argv: string[]): Map<string, string> {
    const args = new Map<string, string>();
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === '--quiet' || arg === '--help' || arg === '-h' || arg === '--write-local-settings') {
            args.set(arg.replace(/^-+/, ''), 'true');
            continue;
        }
        const m = /^--([\w-]+)(?:=(.*))?$/.exec(arg);
        if (!m) {
            throw new Error(`Unexpected argument ${arg}`);
        }
        const value = m[2] ?? argv[++i];
        if (value === undefined) {
            throw new Error(`Missing value for --${m[1]}`);
        }
        args.set(m[1], value);
    }
    return args;
}

function numberArg(args: Map<string, string>, name: string, fallback: number): number {
    const text = args.get(name);
    if (text === undefined) {
        return fallback;
    }
    const value = Number(text);
    if (!Number.isFinite(value) || value < 0) {
        throw new Error(`--${name} must be a non-negative number`);
    }
    return value;
}

async function main(): Promise<void> {
    const args = parseArgs(process.argv.slice(2));
    if (args.has('help') || args.has('h')) {
        console.log(usage);
        return;
    }
    const quiet = args.has('quiet');
    const sim = await startSimulator({
        platformPort: numberArg(args, 'platform-port', 5101),
        appsPort: numberArg(args, 'apps-port', 5102),
        maskinportenPort: numberArg(args, 'maskinporten-port', 5103),
        host: args.get('host') ?? '127.0.0.1',
        org: args.get('org'),
        orgNumber: args.get('org-number'),
        timeScale: numberArg(args, 'time-scale', 1),
        eventsQueryDelaySeconds: numberArg(args, 'events-query-delay', 30),
        eventsBaseUri: args.get('events-base-uri'),
        // local.settings.sample.json's BrokerResources, so that the catch-up finds it registered.
        brokerResources: (args.get('broker-resources') ?? 'ttd-demo-broker')
            .split(',')
            .map((r) => r.trim())
            .filter(Boolean),
        log: quiet ? undefined : (line) => console.log(`${new Date().toISOString()} ${line}`),
    });
    console.log(`platform     ${sim.platformUrl}`);
    console.log(`apps         ${sim.appsUrl}`);
    console.log(`maskinporten ${sim.maskinportenUrl}`);
    console.log(`control API  ${sim.platformUrl}/sim/`);
    // The development client, so that `func start` (or `npm run host`) can be pointed at this simulator.
    const repoRoot = join(__dirname, '..', '..', '..');
    const client = ensureDevClient(resolve(args.get('data-dir') ?? join(repoRoot, '.local')));
    await sim.control.registerClient({
        clientId: client.clientId,
        scopes: client.scopes,
        certificate: client.certificatePem,
    });
    const values = {
        AltinnPlatformBaseUrl: sim.platformUrl,
        AltinnAppsBaseUrl: sim.appsUrl,
        MaskinportenBaseUrl: sim.maskinportenUrl,
        MaskinportenClientId: client.clientId,
        MaskinportenScopes: client.scopes.join(' '),
    };
    if (args.has('write-local-settings')) {
        const file = writeLocalSettings(repoRoot, { ...values, MaskinportenKey: client.maskinportenKey });
        console.log(`wrote these settings and the development MaskinportenKey into ${file}`);
    } else {
        console.log('settings for local.settings.json (add --write-local-settings to write them with the key):');
    }
    console.log(JSON.stringify(values, null, 4));
    const shutdown = (signal: string): void => {
        console.log(`${signal}: stopping the simulator`);
        sim.stop().then(
            () => process.exit(0),
            (err: unknown) => {
                console.error(err);
                process.exit(1);
            },
        );
    };
    process.once('SIGINT', () => shutdown('SIGINT'));
    process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
    console.error((err as Error).message);
    console.error(usage);
    process.exit(1);
});
