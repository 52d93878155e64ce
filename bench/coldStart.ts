/**
 * Cold start (issue 22): the deployment package (`npm run package`: one bundled file) against the
 * unbundled build (bench/unbundledApp.ts: dist/ with its node_modules), each from its own folder
 * outside the repository. Per build, the median of several starts of:
 *
 * - code load in the host: how long the host process that then answers the webhook took to require
 *   every file package.json main names (its `Registered` line says, wall clock and CPU);
 * - code load in a fresh node: the same requires in a `node` that does nothing else, with the
 *   functions-core module provided as the worker provides it (bench/loadApp.ts), as issue 22 first
 *   measured it;
 * - all functions registered: from spawning the local host (dev/host) on the build to its
 *   `Registered n functions` line;
 * - first webhook answered: from spawning the host to the first answer of EventsReceiver to a real
 *   event, which it queues in Azurite (the request is retried every few ms until the host listens).
 *
 * The first webhook's gain is set against the code load's gain in the host: both are then times of
 * the same process, and that process, like the Functions Node worker in Azure (which loads its own
 * bundle and @grpc/grpc-js with http2 before the app: Azure/azure-functions-nodejs-worker
 * package.json), has loaded modules of its own before the app's. A fresh node has not: its figure
 * for the unbundled build also holds a cold module loader resolving some 860 modules and built-ins
 * the host already had, tens of milliseconds that neither the host nor the worker spends, so its
 * gain is the larger; it is printed beside, as the figure the issue started from.
 *
 * Each is given in wall-clock time and in CPU time of the process measured (the loading node, the
 * host from its start). On a shared machine the wall clock also counts waiting for a core, which
 * an instance starting in Azure does not; CPU time does not, so it is the steadier figure of the
 * two. The builds take turns, so that whatever else runs on the machine falls on both alike, and
 * each starts once unmeasured first (the trigger queues get created, both builds' files are in the
 * page cache, as a warm file cache: the unbundled build's 12,000 files cost more when they are not).
 * After the unmeasured start, one more start of each, also unmeasured, runs with bench/moduleProbe.ts
 * to list what the host loaded between the code load and the first webhook's answer: work the load
 * left to the first request. Every start begins with empty queues, as after a quiet hour: the event a start queued is not left
 * for the next start's EventsProcessor to take up while that start's first webhook is measured
 * (the build whose queue listener starts sooner would otherwise pay for the other's leftovers).
 */
import { execFile, spawn } from 'node:child_process';
import { request } from 'node:http';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { QueueServiceClient } from '@azure/storage-queue';
import { freePort } from '../dev/ports';
import { functionsRegisteredPattern } from '../dev/host/host';
import { buildPackage } from '../dev/package/build';
import { listFiles, totalBytes } from '../dev/package/files';
import { medianInterval, type MedianInterval } from './medianInterval';
import type { ModuleProbeResult } from './moduleProbe';
import { processCpuMs } from './processCpu';
import { buildUnbundledApp } from './unbundledApp';

export interface ColdStartOptions {
    /** The repository root, built (npm run build). */
    root: string;
    /** An empty folder for both builds. */
    workDir: string;
    /** The app settings the host runs with (storage in AzureWebJobsStorage, Altinn, timers far away). */
    settings: Record<string, string>;
    /** A fresh CloudEvent for the webhook to queue, one per start. */
    event: () => Promise<unknown>;
    /** Measured starts per build. */
    starts: number;
    /** Node options for the host processes (not the fresh node), to test an explanation; default none. */
    hostNodeOptions?: string[];
}

/** Wall-clock ms, and CPU ms of the process measured (the loading node, or the host). */
interface Start {
    hostLoadMs: number;
    hostLoadCpuMs: number;
    loadMs: number;
    loadCpuMs: number;
    registeredMs: number;
    registeredCpuMs: number;
    webhookMs: number;
    webhookCpuMs: number;
    /** The first webhook in the fresh node after its code load, without the local host (bench/loadApp.ts --webhook). */
    workerWebhookMs: number;
    workerWebhookCpuMs: number;
}

interface Build {
    name: string;
    folder: string;
    files: number;
    bytes: number;
    starts: Start[];
    /** What the host loaded after the code load, up to the first webhook's answer. */
    loadedLater?: ModuleProbeResult;
}

/** Rows for bench/run.ts's table: figure, result, target. */
export async function measureColdStart(options: ColdStartOptions): Promise<string[][]> {
    const packaged = await buildPackage({ root: options.root, outDir: join(options.workDir, 'package') });
    const unbundledFolder = join(options.workDir, 'unbundled');
    await buildUnbundledApp(options.root, unbundledFolder);
    const unbundledFiles = listFiles(unbundledFolder);
    const builds: Build[] = [
        {
            name: 'unbundled',
            folder: unbundledFolder,
            files: unbundledFiles.length,
            bytes: totalBytes(unbundledFiles),
            starts: [],
        },
        { name: 'package', folder: packaged.folder, files: packaged.files.length, bytes: packaged.bytes, starts: [] },
    ];
    for (const build of builds) await startOnce(options, build.folder, true);
    for (const build of builds) {
        const probe = join(options.workDir, `${build.name}-modules.json`);
        await startOnce(options, build.folder, false, probe);
        build.loadedLater = JSON.parse(readFileSync(probe, 'utf8')) as ModuleProbeResult;
        console.log(`  loaded by ${build.name} after its code load, up to the first answer: ${loadedLater(build)}`);
    }
    for (let round = 0; round < options.starts; round++) {
        for (const build of round % 2 === 0 ? builds : [...builds].reverse()) {
            const start = await startOnce(options, build.folder, false);
            build.starts.push(start);
            const ms = (wall: number, cpu: number): string => `${wall.toFixed(0)} ms (CPU ${cpu.toFixed(0)})`;
            console.log(
                `  cold start ${round + 1}/${options.starts} ${build.name}: load ${ms(start.hostLoadMs, start.hostLoadCpuMs)} ` +
                    `(fresh node ${ms(start.loadMs, start.loadCpuMs)}, its first webhook ${ms(start.workerWebhookMs, start.workerWebhookCpuMs)}), ` +
                    `registered ${ms(start.registeredMs, start.registeredCpuMs)}, first webhook ${ms(start.webhookMs, start.webhookCpuMs)}`,
            );
        }
    }
    return rows(builds[0], builds[1], options.starts);
}

function rows(unbundled: Build, packaged: Build, starts: number): string[][] {
    const median = (build: Build, figure: keyof Start): number => {
        const sorted = build.starts.map((start) => start[figure]).sort((a, b) => a - b);
        const middle = sorted.length >> 1;
        return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    };
    const both = (figure: keyof Start): string =>
        `package ${median(packaged, figure).toFixed(0)} ms, unbundled ${median(unbundled, figure).toFixed(0)} ms`;
    const gain = (figure: keyof Start): number => median(unbundled, figure) - median(packaged, figure);
    const ratio = (figure: keyof Start): number => median(packaged, figure) / median(unbundled, figure);
    const verdict = (ok: boolean, what: string): string => `${ok ? 'ok' : 'NOT'} ${what}`;
    const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
    interface Pairing {
        webhook: keyof Start;
        load: keyof Start;
        where: string;
        cpu?: string;
    }
    /**
     * Whether the first webhook keeps the code load's gain. Each round starts both builds, so each round
     * gives one difference: (first webhook gain) - (load gain). Its median and 95% interval
     * (medianInterval.ts) say whether the rounds show a loss beyond their own noise.
     */
    const kept = ({ webhook, load }: Pairing): MedianInterval =>
        medianInterval(
            packaged.starts.map(
                (start, round) =>
                    unbundled.starts[round][webhook] - start[webhook] - (unbundled.starts[round][load] - start[load]),
            ),
        );
    /** Whole milliseconds, without a "-0". */
    const whole = (ms: number): string => (Math.round(ms) || 0).toFixed(0);
    const keptText = (pairing: Pairing): string => {
        const { median: middle, low, high } = kept(pairing);
        const interval =
            low === undefined || high === undefined ? '' : ` (95% interval ${whole(low)} to ${whole(high)})`;
        return `per round, webhook gain minus load gain ${whole(middle)} ms${interval}`;
    };
    const keptVerdict = (pairing: Pairing): string => {
        const { median: middle, high } = kept(pairing);
        if (middle >= 0) return verdict(true, 'gain ≥ load gain');
        return (high ?? middle) >= 0
            ? verdict(true, 'gain = load gain within the noise')
            : verdict(false, `gain ≥ load gain: ${whole(-middle)} ms short`);
    };
    const firstWebhookRow = (figure: string, from: string, wall: Pairing, cpu: Pairing & { cpu: string }): string[] => [
        figure,
        `${from}: wall ${both(wall.webhook)}, ${gain(wall.webhook).toFixed(0)} ms sooner (code load ${wall.where} ${gain(wall.load).toFixed(0)} ms sooner); ` +
            `${keptText(wall)}; ${cpu.cpu} ${both(cpu.webhook)}, ${gain(cpu.webhook).toFixed(0)} ms less (load ${gain(cpu.load).toFixed(0)} ms less); ${keptText(cpu)}`,
        `wall ${keptVerdict(wall)}; CPU ${keptVerdict(cpu)}`,
    ];
    return [
        [
            'cold start: code load in the host',
            `wall ${both('hostLoadMs')} (ratio ${ratio('hostLoadMs').toFixed(2)}); CPU ${both('hostLoadCpuMs')} (ratio ${ratio('hostLoadCpuMs').toFixed(2)}); median of ${starts}`,
            `wall ${verdict(ratio('hostLoadMs') <= 0.25, '≤ 0.25')}; CPU ${verdict(ratio('hostLoadCpuMs') <= 0.25, '≤ 0.25')}`,
        ],
        [
            'cold start: code load in a fresh node',
            `wall ${both('loadMs')} (ratio ${ratio('loadMs').toFixed(2)}); CPU ${both('loadCpuMs')} (ratio ${ratio('loadCpuMs').toFixed(2)})`,
            `wall ${verdict(ratio('loadMs') <= 0.25, '≤ 0.25')}; CPU ${verdict(ratio('loadCpuMs') <= 0.25, '≤ 0.25')}`,
        ],
        [
            'cold start: functions registered',
            `from process start: wall ${both('registeredMs')}; host CPU ${both('registeredCpuMs')}`,
            '',
        ],
        firstWebhookRow(
            'cold start: first webhook through the local host',
            'from the host process start',
            { webhook: 'webhookMs', load: 'hostLoadMs', where: 'in the host' },
            { webhook: 'webhookCpuMs', load: 'hostLoadCpuMs', where: 'in the host', cpu: 'host CPU' },
        ),
        firstWebhookRow(
            'cold start: first webhook in a worker process',
            'from the start of the fresh node that loaded the code, without the local host',
            { webhook: 'workerWebhookMs', load: 'loadMs', where: 'there' },
            { webhook: 'workerWebhookCpuMs', load: 'loadCpuMs', where: 'there', cpu: 'CPU' },
        ),
        [
            'cold start: loaded after the code load',
            `up to the first webhook's answer: package ${loadedLater(packaged)}; unbundled ${loadedLater(unbundled)}`,
            verdict(loadedLater(packaged) === 'nothing', 'nothing in the package'),
        ],
        [
            'package size',
            `package ${mb(packaged.bytes)} in ${packaged.files} files; unbundled ${mb(unbundled.bytes)} in ${unbundled.files} files`,
            verdict(packaged.bytes < 5e6 && packaged.files < 50, '< 5 MB, < 50 files'),
        ],
    ];
}

/** `nothing`, or what was loaded (built-ins by name, files relative to the build's folder). */
function loadedLater(build: Build): string {
    const { builtins = [], files = [] } = build.loadedLater ?? {};
    const names = [...builtins, ...files.map((path) => relative(build.folder, path))];
    return names.length === 0 ? 'nothing' : `${names.length}: ${names.join(', ')}`;
}

/** One start; with `probeFile`, bench/moduleProbe.ts writes there what was loaded after the code load. */
async function startOnce(
    options: ColdStartOptions,
    folder: string,
    warmUp: boolean,
    probeFile?: string,
): Promise<Start> {
    const eventFile = join(options.workDir, 'event.json');
    writeFileSync(eventFile, JSON.stringify(await options.event()));
    // Not in the warm-up start: the queues are made by the host's first start.
    const loaded = await promisify(execFile)(
        process.execPath,
        [join(options.root, 'dist', 'bench', 'loadApp.js'), folder, ...(warmUp ? [] : ['--webhook', eventFile])],
        { cwd: folder, env: { ...process.env, ...options.settings } },
    );
    // What bench/loadApp.ts prints; no webhook figures in the warm-up start.
    const worker = JSON.parse(loaded.stdout) as {
        loadMs: number;
        loadCpuMs: number;
        webhookMs?: number;
        webhookCpuMs?: number;
    };
    const fresh = {
        loadMs: worker.loadMs,
        loadCpuMs: worker.loadCpuMs,
        workerWebhookMs: worker.webhookMs ?? Number.NaN,
        workerWebhookCpuMs: worker.webhookCpuMs ?? Number.NaN,
    };
    // The host starts on empty queues: the worker's event above is not left for its EventsProcessor.
    await emptyQueues(options.settings.AzureWebJobsStorage);
    const body = JSON.stringify(await options.event());
    const port = await freePort();
    const started = performance.now();
    const probe = probeFile
        ? {
              args: ['--require', join(options.root, 'dist', 'bench', 'moduleProbe.js')],
              env: { AOS_MODULE_PROBE: probeFile },
          }
        : { args: [], env: {} };
    const host = spawn(
        process.execPath,
        [
            ...(options.hostNodeOptions ?? []),
            ...probe.args,
            join(options.root, 'dist', 'dev', 'host', 'cli.js'),
            '--app',
            folder,
            '--port',
            String(port),
        ],
        {
            cwd: folder,
            env: { ...process.env, ...options.settings, ...probe.env },
            stdio: ['ignore', 'pipe', 'pipe'],
        },
    );
    const exited = new Promise<void>((resolve) => host.once('exit', () => resolve()));
    let output = '';
    host.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const lines = createInterface({ input: host.stdout });
    const registered = new Promise<Pick<Start, 'registeredMs' | 'registeredCpuMs' | 'hostLoadMs' | 'hostLoadCpuMs'>>(
        (resolve) =>
            lines.on('line', (line) => {
                output += `${line}\n`;
                const match = functionsRegisteredPattern.exec(line);
                if (match) {
                    resolve({
                        registeredMs: performance.now() - started,
                        registeredCpuMs: processCpuMs(host.pid!),
                        hostLoadMs: Number(match[1]),
                        hostLoadCpuMs: Number(match[2]),
                    });
                }
            }),
    );
    try {
        const webhookMs = await firstAnswer(port, body, started, warmUp, exited);
        const webhookCpuMs = processCpuMs(host.pid!);
        // The probe writes once the host has logged the invocation's end, just after the answer.
        for (let waited = 0; probeFile && !existsSync(probeFile); waited += 10) {
            if (waited > 10_000) throw new Error(`bench/moduleProbe.ts wrote no ${probeFile}`);
            await sleep(10);
        }
        return { ...fresh, ...(await registered), webhookMs, webhookCpuMs };
    } catch (error) {
        throw new Error(`Cold start of ${folder} failed: ${String(error)}\n${output}`, { cause: error });
    } finally {
        host.kill('SIGKILL');
        await exited;
    }
}

/** Clears every queue of the storage account (the queues stay: the host created them in the warm-up start). */
async function emptyQueues(connectionString: string | undefined): Promise<void> {
    if (!connectionString) throw new Error('The cold start settings name no AzureWebJobsStorage');
    const service = QueueServiceClient.fromConnectionString(connectionString);
    for await (const queue of service.listQueues()) await service.getQueueClient(queue.name).clearMessages();
}

/** Posts the event until the host answers; ms from `started` to the answer. A warm-up start waits out 503s (queues not there yet). */
async function firstAnswer(
    port: number,
    body: string,
    started: number,
    warmUp: boolean,
    exited: Promise<void>,
): Promise<number> {
    let hostExited = false;
    void exited.then(() => (hostExited = true));
    for (;;) {
        if (hostExited) throw new Error('the host exited before answering');
        const answer = await post(port, body);
        const at = performance.now();
        if (answer === 'refused' || (warmUp && answer === 503)) {
            await sleep(answer === 'refused' ? 2 : 100);
            continue;
        }
        if (answer !== 200) throw new Error(`the webhook answered ${answer}`);
        return at - started;
    }
}

function post(port: number, body: string): Promise<number | 'refused'> {
    return new Promise((resolve, reject) => {
        const req = request(
            {
                host: '127.0.0.1',
                port,
                path: '/api/eventsreceiver',
                method: 'POST',
                headers: { 'content-type': 'application/cloudevents+json' },
            },
            (res) => {
                res.resume();
                res.on('end', () => resolve(res.statusCode ?? 0));
            },
        );
        req.on('error', (error: NodeJS.ErrnoException) =>
            error.code === 'ECONNREFUSED' ? resolve('refused') : reject(error),
        );
        req.end(body);
    });
}
