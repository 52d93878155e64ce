import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort } from './azurite';

/**
 * Runs the local Functions host (dev/host) as a child process, the way integration tests run
 * the project's real functions: `startHostProcess({ appRoot: repoRoot, env: { AzureWebJobsStorage:
 * azurite.connectionString } })`. A child process because @azure/functions binds to the first
 * host it sees, so one process can hold one host. Needs `npm run build` first (npm test does).
 */

export const repoRoot = resolve(__dirname, '..', '..');
export const hostCli = join(repoRoot, 'dist', 'dev', 'host', 'cli.js');
/**
 * Settings for a test host: quick queue retries (two attempts, a second apart, polled every half
 * second), short Altinn retry budgets, and the timers far away so that only queue work runs.
 */
export const quickQueueSettings = {
    HttpRetryBudgetSeconds: '1',
    // Other functions' timers: far away, so that only the pipeline under test runs.
    CatchUpSchedule: '0 0 0 1 1 *',
    ReconcileSchedule: '0 0 0 1 1 *',
    SubscriptionsSchedule: '0 0 0 1 1 *',
    PoisonKeeperSchedule: '0 0 0 1 1 *',
    AzureFunctionsJobHost__extensions__queues__maxDequeueCount: '2',
    AzureFunctionsJobHost__extensions__queues__visibilityTimeout: '00:00:01',
    AzureFunctionsJobHost__extensions__queues__maxPollingInterval: '00:00:00.500',
};

/** The line the host prints once every trigger listens. */
export const hostStartedLine = /Host started \(\d+ms\)/;

export interface HostProcessOptions {
    /** The function app folder: package.json (main), host.json, local.settings.json. */
    appRoot: string;
    /** Default: a free port. */
    port?: number;
    /** Added to (or, when undefined, removed from) the inherited environment; wins over local.settings.json. */
    env?: Record<string, string | undefined>;
    /** How long to wait for "Host started"; default 30 s. */
    startTimeoutMs?: number;
    /** Extra CLI arguments, e.g. ['--verbose']. */
    args?: string[];
}

export interface HostExit {
    code: number | null;
    signal: NodeJS.Signals | null;
}

export interface HostProcess {
    /** e.g. http://127.0.0.1:7071 (functions are under /api). */
    readonly url: string;
    readonly port: number;
    readonly pid: number;
    readonly child: ChildProcess;
    /** Resolves when the process has exited. */
    readonly exited: Promise<HostExit>;
    /** Everything the host printed so far (stdout and stderr, in arrival order). */
    output(): string;
    /** Waits until the output (from `fromIndex` on) matches; rejects with the output on timeout or exit. */
    waitForOutput(pattern: RegExp, timeoutMs?: number, fromIndex?: number): Promise<RegExpExecArray>;
    /** SIGTERM (graceful: in-flight invocations finish), then SIGKILL after `timeoutMs` (default 40 s). */
    stop(timeoutMs?: number): Promise<HostExit>;
    /** SIGKILL at once. */
    kill(): Promise<HostExit>;
}

/** Starts the host and resolves once it printed "Host started"; rejects with its output if it exits first. */
export async function startHostProcess(options: HostProcessOptions): Promise<HostProcess> {
    const host = await spawnHost(options);
    try {
        await host.waitForOutput(hostStartedLine, options.startTimeoutMs ?? 30_000);
    } catch (error) {
        await host.kill();
        throw error;
    }
    return host;
}

/** Runs the host until it exits by itself (for start-up failures), killing it after `timeoutMs`. */
export async function runHostUntilExit(
    options: HostProcessOptions & { timeoutMs?: number },
): Promise<HostExit & { output: string }> {
    const host = await spawnHost(options);
    const timer = setTimeout(() => host.child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    const exit = await host.exited;
    clearTimeout(timer);
    return { ...exit, output: host.output() };
}

async function spawnHost(options: HostProcessOptions): Promise<HostProcess> {
    if (!existsSync(hostCli)) throw new Error(`${hostCli} is missing: run npm run build first.`);
    const port = options.port ?? (await freePort());
    const env: Record<string, string | undefined> = { ...process.env };
    for (const [key, value] of Object.entries(options.env ?? {})) {
        if (value === undefined) delete env[key];
        else env[key] = value;
    }
    const child = spawn(
        process.execPath,
        [hostCli, '--port', String(port), '--app', options.appRoot, ...(options.args ?? [])],
        { cwd: options.appRoot, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    const listeners = new Set<() => void>();
    const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        listeners.forEach((listener) => listener());
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const exited = new Promise<HostExit>((resolveExit) => {
        child.once('exit', (code, signal) => {
            resolveExit({ code, signal });
            listeners.forEach((listener) => listener());
        });
    });

    const waitForOutput = (pattern: RegExp, timeoutMs = 15_000, fromIndex = 0): Promise<RegExpExecArray> =>
        new Promise((resolveMatch, reject) => {
            const check = (): boolean => {
                const match = new RegExp(pattern.source, pattern.flags.replace('g', '')).exec(output.slice(fromIndex));
                if (match) {
                    done();
                    resolveMatch(match);
                    return true;
                }
                if (child.exitCode !== null || child.signalCode !== null) {
                    done();
                    reject(
                        new Error(
                            `The host exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}:\n${output}`,
                        ),
                    );
                    return true;
                }
                return false;
            };
            const timer = setTimeout(() => {
                done();
                reject(new Error(`The host did not print ${pattern} within ${timeoutMs} ms:\n${output}`));
            }, timeoutMs);
            const listener = (): void => void check();
            const done = (): void => {
                clearTimeout(timer);
                listeners.delete(listener);
            };
            listeners.add(listener);
            check();
        });

    const stop = async (timeoutMs = 40_000): Promise<HostExit> => {
        if (child.exitCode === null && child.signalCode === null) {
            const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
            child.kill('SIGTERM');
            await exited;
            clearTimeout(timer);
        }
        return exited;
    };

    return {
        url: `http://127.0.0.1:${port}`,
        port,
        pid: child.pid ?? -1,
        child,
        exited,
        output: () => output,
        waitForOutput,
        stop,
        kill: () => {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
            return exited;
        },
    };
}
