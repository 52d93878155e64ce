/**
 * `npm start`: the whole system on one machine with nothing but Node.js. Azurite, the Altinn
 * simulator and the local Functions host, then a demo that sends submissions through the
 * pipeline. Ctrl-C stops everything this started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { defaultAzuritePorts, isPortOpen, localAzuriteFolder, startAzuriteProcess, stopChild } from './azurite';
import { runDemo } from './demo';
import { ensureDevClient, simulatorSettings, type DevClient } from './devClient';
import { provisionStorage } from './provisionStorage';
import { startSimulator, type Simulator } from './simulator';
import { connectionStringFor } from './storageConnection';
import { createStorage } from '../shared/storage';

const repoRoot = resolve(__dirname, '..', '..');

const { values: flags } = parseArgs({
    options: {
        'host-port': { type: 'string', default: '7071' },
        'blob-port': { type: 'string', default: String(defaultAzuritePorts.blobPort) },
        'queue-port': { type: 'string', default: String(defaultAzuritePorts.queuePort) },
        'table-port': { type: 'string', default: String(defaultAzuritePorts.tablePort) },
        'platform-port': { type: 'string', default: '5101' },
        'apps-port': { type: 'string', default: '5102' },
        'maskinporten-port': { type: 'string', default: '5103' },
        'data-dir': { type: 'string', default: join(repoRoot, '.local') },
        'no-demo': { type: 'boolean', default: false },
        'exit-after-demo': { type: 'boolean', default: false },
    },
});

const ports = {
    host: Number(flags['host-port']),
    blob: Number(flags['blob-port']),
    queue: Number(flags['queue-port']),
    table: Number(flags['table-port']),
};
const dataDir = resolve(flags['data-dir']);

const storageConnectionString = connectionStringFor({
    blobPort: ports.blob,
    queuePort: ports.queue,
    tablePort: ports.table,
});

function say(line: string): void {
    console.log(`[start] ${line}`);
}

function prefixLines(stream: NodeJS.ReadableStream | null, prefix: string): void {
    if (!stream) return;
    createInterface({ input: stream }).on('line', (line) => {
        if (line.trim()) console.log(`${prefix} ${line}`);
    });
}

/** The demo's Broker resource: registered in the simulator from the start, as a real Broker resource is. */
const DEMO_BROKER_RESOURCE = 'ttd-demo-broker';

function hostSettings(sim: Simulator, client: DevClient): Record<string, string> {
    return {
        AzureWebJobsStorage: storageConnectionString,
        ...simulatorSettings(sim, client),
        CatchUpApps: 'ttd/demo-app',
        CatchUpSchedule: '0 */1 * * * *',
        ReconcileSchedule: '0 */5 * * * *',
        SubscriptionsSchedule: '*/10 * * * * *',
        BrokerResources: DEMO_BROKER_RESOURCE,
        HttpRetryBudgetSeconds: '20',
    };
}

async function main(): Promise<void> {
    const stoppers: (() => Promise<void>)[] = [];
    let stopping: Promise<void> | undefined;
    const stopAll = (): Promise<void> => {
        stopping ??= (async () => {
            say('stopping');
            for (const stop of stoppers.reverse()) await stop().catch((error: unknown) => console.error(error));
            say('stopped');
        })();
        return stopping;
    };
    const children: ChildProcess[] = [];
    let signals = 0;
    const onSignal = () => {
        // The first Ctrl-C stops everything gracefully; a second one does not wait any longer.
        if (++signals > 1) {
            for (const child of children) child.kill('SIGKILL');
            process.exit(130);
        }
        void stopAll().then(() => process.exit(0));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);

    try {
        if ((await isPortOpen(ports.blob)) && (await isPortOpen(ports.queue)) && (await isPortOpen(ports.table))) {
            say(
                `using the Azurite already listening on ${ports.blob} (blob), ${ports.queue} (queue) and ${ports.table} (table)`,
            );
        } else {
            const location = localAzuriteFolder(dataDir);
            const azurite = await startAzuriteProcess({
                blobPort: ports.blob,
                queuePort: ports.queue,
                tablePort: ports.table,
                location,
            });
            stoppers.push(() => azurite.stop());
            children.push(azurite.child);
            say(
                `Azurite (pid ${azurite.child.pid}) on ${ports.blob}/${ports.queue}/${ports.table}, data in ${location}`,
            );
        }

        // What Bicep provisions in Azure, so that `aos check` finds it here too.
        await provisionStorage(createStorage({ AzureWebJobsStorage: storageConnectionString }));

        const client = ensureDevClient(dataDir);
        const sim = await startSimulator({
            platformPort: Number(flags['platform-port']),
            appsPort: Number(flags['apps-port']),
            maskinportenPort: Number(flags['maskinporten-port']),
            timeScale: 0.05,
            eventsQueryDelaySeconds: 0,
            brokerResources: [DEMO_BROKER_RESOURCE],
            // Deployed, so that `aos smoke --app ttd/demo-app` can instantiate it through the app API.
            apps: [{ app: 'demo-app', dataTypes: ['model', 'vedlegg'] }],
            clients: [{ clientId: client.clientId, scopes: client.scopes, certificate: client.certificatePem }],
            log: (line) => console.log(`[altinn] ${line}`),
        });
        stoppers.push(() => sim.stop());
        say(`Altinn simulator: platform ${sim.platformUrl}, apps ${sim.appsUrl}, Maskinporten ${sim.maskinportenUrl}`);

        const host = spawn(
            process.execPath,
            [join(repoRoot, 'dist', 'dev', 'host', 'cli.js'), '--port', String(ports.host)],
            {
                cwd: repoRoot,
                env: { ...process.env, ...hostSettings(sim, client) },
                stdio: ['ignore', 'pipe', 'pipe'],
            },
        );
        stoppers.push(() => stopChild(host, 40_000));
        children.push(host);
        prefixLines(host.stdout, '[host]');
        prefixLines(host.stderr, '[host]');
        await waitForHost(host);
        const webhook = `http://127.0.0.1:${ports.host}/api/eventsreceiver?code=local`;
        say(`Functions host (pid ${host.pid}): webhook ${webhook}`);

        if (!flags['no-demo']) {
            await runDemo({ sim, webhook, storageConnection: storageConnectionString, say });
        }
        if (flags['exit-after-demo']) {
            await stopAll();
            return;
        }
        say('running; Ctrl-C stops everything');
        say(
            `Storage Explorer: "Local storage emulator", blob port ${ports.blob}, queue port ${ports.queue}, table port ${ports.table}`,
        );
        say(`Status page: http://127.0.0.1:${ports.host}/api/status`);
        say(`Check it: npm run aos -- check --url http://127.0.0.1:${ports.host}`);
    } catch (error) {
        console.error(`[start] failed: ${error instanceof Error ? error.message : String(error)}`);
        await stopAll();
        process.exitCode = 1;
    }
}

function waitForHost(host: ChildProcess): Promise<void> {
    return new Promise((resolvePromise, reject) => {
        const timer = setTimeout(() => reject(new Error('the Functions host did not start within 60 s')), 60_000);
        host.once('exit', (code) => {
            clearTimeout(timer);
            reject(new Error(`the Functions host exited with code ${code} during start-up`));
        });
        if (!host.stdout) return;
        createInterface({ input: host.stdout }).on('line', (line) => {
            if (/Host started/.test(line)) {
                clearTimeout(timer);
                resolvePromise();
            }
        });
    });
}

void main();
