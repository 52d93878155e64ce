/**
 * npm run bench [-- --instances 1000 --elements 3 --element-kib 16 --large-mib 1024]
 *
 * Drives the real functions in the local host, against Azurite and the Altinn simulator, and
 * prints four figures: throughput beside the storage floor, the host's peak memory while a large
 * data element passes, token grants and exchanges per 1000 events, and the time to store an
 * instance of 20 slow data elements.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { BlobServiceClient } from '@azure/storage-blob';
import { startAzuriteProcess, stopChild } from '../dev/azurite';
import { dropSubscriptionFiles, subscriptionsValidated, until } from '../dev/demo';
import { ensureDevClient, simulatorSettings } from '../dev/devClient';
import { startSimulator, type Simulator } from '../dev/simulator';
import { connectionStringFor } from '../dev/storageConnection';
import { freePort } from '../dev/ports';
import { measureStorageFloor } from './storageFloor';

const repoRoot = resolve(__dirname, '..', '..');

const { values } = parseArgs({
    options: {
        instances: { type: 'string', default: '1000' },
        elements: { type: 'string', default: '3' },
        'element-kib': { type: 'string', default: '16' },
        'large-mib': { type: 'string', default: '1024' },
        'slow-elements': { type: 'string', default: '20' },
        'latency-ms': { type: 'string', default: '200' },
    },
});
const instances = Number(values.instances);
const elementsPerInstance = Number(values.elements);
const elementBytes = Number(values['element-kib']) * 1024;
const largeBytes = Number(values['large-mib']) * 1024 * 1024;
const slowElements = Number(values['slow-elements']);
const latencyMs = Number(values['latency-ms']);
const app = 'bench-app';

interface HostHandle {
    child: ChildProcess;
    webhook: string;
    peakRssBytes(): number;
    currentRssBytes(): number;
}

function procStatusBytes(pid: number, field: 'VmHWM' | 'VmRSS'): number {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) * 1024 : 0;
}

async function startHost(sim: Simulator, storageConnection: string, dataDir: string): Promise<HostHandle> {
    const client = ensureDevClient(dataDir);
    await sim.control.registerClient({
        clientId: client.clientId,
        scopes: client.scopes,
        certificate: client.certificatePem,
    });
    const port = await freePort();
    const child = spawn(process.execPath, [join(repoRoot, 'dist', 'dev', 'host', 'cli.js'), '--port', String(port)], {
        cwd: repoRoot,
        env: {
            ...process.env,
            AzureWebJobsStorage: storageConnection,
            ...simulatorSettings(sim, client),
            SubscriptionsSchedule: '*/2 * * * * *',
            CatchUpSchedule: '0 0 0 1 1 *',
            ReconcileSchedule: '0 0 0 1 1 *',
            CatchUpApps: '',
            BrokerResources: '',
            // Measure the pipeline, not the idle back-off of queue polling (5 s in host.json).
            AzureFunctionsJobHost__extensions__queues__maxPollingInterval: '00:00:00.100',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    const failures: string[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => {
        if (/Executed '.*' \(Failed/.test(line)) failures.push(line);
    });
    child.stderr?.resume();
    await new Promise<void>((ok, fail) => {
        const timer = setTimeout(() => fail(new Error('host did not start')), 60_000);
        createInterface({ input: child.stdout }).on('line', (line) => {
            if (/Host started/.test(line)) {
                clearTimeout(timer);
                ok();
            }
        });
    });
    const webhook = `http://127.0.0.1:${port}/api/eventsreceiver?code=bench`;
    await dropSubscriptionFiles(BlobServiceClient.fromConnectionString(storageConnection), {
        'bench.json': {
            endPoint: webhook,
            sourceFilter: `${sim.appsUrl}/ttd/${app}`,
            typeFilter: 'app.instance.process.completed',
        },
    });
    await subscriptionsValidated(sim, webhook, 1, 60_000);
    return {
        child,
        webhook,
        peakRssBytes: () => procStatusBytes(child.pid!, 'VmHWM'),
        currentRssBytes: () => procStatusBytes(child.pid!, 'VmRSS'),
    };
}

function completedCount(sim: Simulator, ids: Set<string>): number {
    const { completes } = sim.counters();
    return [...ids].filter((id) => (completes[id] ?? 0) > 0).length;
}

async function throughput(sim: Simulator): Promise<{ seconds: number; eventsPerSecond: number }> {
    const ids = new Set<string>();
    const started = Date.now();
    // Created (and their events pushed) in parallel waves, like submissions near a deadline.
    for (let i = 0; i < instances; i += 50) {
        const wave = Array.from({ length: Math.min(50, instances - i) }, (_, j) =>
            sim.control.createInstance({
                app,
                process: 'completed',
                publish: true,
                dataElements: Array.from({ length: elementsPerInstance }, (_, k) => ({
                    dataType: k === 0 ? 'model' : 'vedlegg',
                    contentType: k === 0 ? 'application/xml' : 'application/pdf',
                    filename: `element-${k}.bin`,
                    size: elementBytes,
                    seed: `bench-${i + j}-${k}`,
                })),
            }),
        );
        for (const created of await Promise.all(wave)) ids.add(created.id);
    }
    await until(`${instances} instances confirmed`, 30 * 60_000, () =>
        Promise.resolve(completedCount(sim, ids) === ids.size ? true : undefined),
    );
    const seconds = (Date.now() - started) / 1000;
    return { seconds, eventsPerSecond: instances / seconds };
}

async function largeElement(sim: Simulator, host: HostHandle): Promise<{ seconds: number; peakRssMiB: number }> {
    const before = host.currentRssBytes();
    const started = Date.now();
    const created = await sim.control.createInstance({
        app,
        process: 'completed',
        publish: true,
        dataElements: [
            {
                dataType: 'vedlegg',
                contentType: 'application/octet-stream',
                filename: 'large.bin',
                size: largeBytes,
                seed: 'large',
            },
        ],
    });
    await until('the large instance confirmed', 30 * 60_000, () =>
        Promise.resolve(completedCount(sim, new Set([created.id])) === 1 ? true : undefined),
    );
    const peak = host.peakRssBytes();
    console.log(`  host RSS before ${(before / 2 ** 20).toFixed(0)} MiB, peak ${(peak / 2 ** 20).toFixed(0)} MiB`);
    return { seconds: (Date.now() - started) / 1000, peakRssMiB: peak / 2 ** 20 };
}

async function slowParallel(sim: Simulator, storageConnection: string): Promise<{ seconds: number }> {
    const fault = await sim.control.addFault({ endpoint: 'storage.getData', latencyMs });
    const apps = await sim.control.addFault({ endpoint: 'apps.getData', latencyMs });
    const inbound = BlobServiceClient.fromConnectionString(storageConnection).getContainerClient('inbound');
    const started = Date.now();
    const created = await sim.control.createInstance({
        app,
        process: 'completed',
        publish: true,
        dataElements: Array.from({ length: slowElements }, (_, k) => ({
            dataType: 'vedlegg',
            contentType: 'application/pdf',
            filename: `slow-${k}.pdf`,
            size: 4096,
            seed: `slow-${k}`,
        })),
    });
    const instanceJson = inbound.getBlobClient(`ttd/${app}/${created.instanceGuid}/instance.json`);
    await until('the slow instance stored', 120_000, async () => ((await instanceJson.exists()) ? true : undefined));
    const seconds = (Date.now() - started) / 1000;
    await sim.control.removeFault(fault.id);
    await sim.control.removeFault(apps.id);
    return { seconds };
}

async function main(): Promise<void> {
    const dataDir = mkdtempSync(join(tmpdir(), 'aos-bench-'));
    const ports = { blobPort: await freePort(), queuePort: await freePort(), tablePort: await freePort() };
    const azurite = await startAzuriteProcess({ ...ports, location: join(dataDir, 'azurite') });
    const storageConnection = connectionStringFor(ports);
    const sim = await startSimulator({ timeScale: 0.01, eventsQueryDelaySeconds: 0 });
    let host: HostHandle | undefined;
    try {
        console.log(
            `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
        );
        const floor = await measureStorageFloor(storageConnection, instances, elementsPerInstance, elementBytes, 12);
        console.log(`storage floor: ${instances} instances in ${floor.seconds.toFixed(1)} s`);
        host = await startHost(sim, storageConnection, dataDir);

        const run = await throughput(sim);
        const { grantsIssued, exchanges } = sim.counters();
        console.log(`throughput: ${instances} instances in ${run.seconds.toFixed(1)} s`);
        const large = await largeElement(sim, host);
        const slow = await slowParallel(sim, storageConnection);

        const rows: [string, string, string][] = [
            [
                'throughput',
                `${run.eventsPerSecond.toFixed(1)} events/s (${instances} × ${elementsPerInstance} × ${values['element-kib']} KiB)`,
                '',
            ],
            [
                'storage floor',
                `${floor.eventsPerSecond.toFixed(1)} events/s (same queue and blob operations, SDK only)`,
                '',
            ],
            ['pipeline / floor', `${((run.eventsPerSecond / floor.eventsPerSecond) * 100).toFixed(0)} %`, ''],
            [
                'memory',
                `peak host RSS ${large.peakRssMiB.toFixed(0)} MiB with a ${values['large-mib']} MiB data element (${large.seconds.toFixed(1)} s)`,
                large.peakRssMiB < 256 ? 'ok (< 256 MB)' : 'OVER 256 MB',
            ],
            [
                'tokens',
                `${grantsIssued} Maskinporten grants, ${exchanges} exchanges for ${instances} events`,
                grantsIssued <= 2 && exchanges <= 2 ? 'ok (≤ 2 each)' : 'OVER 2',
            ],
            [
                'parallel data',
                `${slowElements} elements × ${latencyMs} ms latency stored in ${(slow.seconds * 1000).toFixed(0)} ms (serial would be ${slowElements * latencyMs} ms)`,
                slow.seconds * 1000 < (slowElements * latencyMs) / 2 ? 'ok' : 'SLOW',
            ],
        ];
        const width = Math.max(...rows.map((r) => r[0].length));
        console.log('\n| figure | result | target |\n| --- | --- | --- |');
        for (const [name, result, target] of rows) console.log(`| ${name.padEnd(width)} | ${result} | ${target} |`);
    } finally {
        if (host) await stopChild(host.child, 40_000);
        await sim.stop();
        await azurite.stop();
        rmSync(dataDir, { recursive: true, force: true });
    }
}

main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
});
