/**
 * Azurite from the npm package as a child process tracked by PID. The local stack persists to a
 * folder (so Storage Explorer can browse it); tests use an in-memory one on free ports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';

export interface AzuritePorts {
    blobPort: number;
    queuePort: number;
    tablePort: number;
}

export interface AzuriteOptions extends AzuritePorts {
    /** A folder to persist to; omitted: in-memory (all data lost on stop). */
    location?: string;
    /** Working folder for an in-memory Azurite (Azurite refuses --location together with in-memory). */
    cwd?: string;
}

export interface AzuriteProcess {
    readonly child: ChildProcess;
    stop(): Promise<void>;
}

export const defaultAzuritePorts: AzuritePorts = { blobPort: 10000, queuePort: 10001, tablePort: 10002 };

function azuriteScript(): string {
    return require.resolve('azurite/dist/src/azurite.js');
}

export function isPortOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = connect(port, host);
        socket.once('connect', () => {
            socket.destroy();
            resolve(true);
        });
        socket.once('error', () => resolve(false));
    });
}

export async function startAzuriteProcess(options: AzuriteOptions): Promise<AzuriteProcess> {
    const persistence = options.location ? ['--location', options.location] : ['--inMemoryPersistence'];
    if (options.location) mkdirSync(options.location, { recursive: true });
    const child = spawn(
        process.execPath,
        [
            azuriteScript(),
            ...persistence,
            // Current Azure SDKs speak a newer API version than Azurite releases accept.
            '--skipApiVersionCheck',
            '--disableTelemetry',
            '--loose',
            '--silent',
            ...['--blobHost', '127.0.0.1', '--blobPort', String(options.blobPort)],
            ...['--queueHost', '127.0.0.1', '--queuePort', String(options.queuePort)],
            ...['--tableHost', '127.0.0.1', '--tablePort', String(options.tablePort)],
        ],
        { cwd: options.cwd ?? options.location, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 30_000;
    for (;;) {
        if (child.exitCode !== null) throw new Error(`Azurite exited with code ${child.exitCode}: ${output.trim()}`);
        const open = await Promise.all(
            [options.blobPort, options.queuePort, options.tablePort].map((port) => isPortOpen(port)),
        );
        if (open.every(Boolean)) break;
        if (Date.now() > deadline) {
            child.kill('SIGKILL');
            throw new Error(
                `Azurite did not listen on ${options.blobPort}/${options.queuePort}/${options.tablePort} within 30 s: ${output}`,
            );
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return { child, stop: () => stopChild(child) };
}

/** SIGTERM, then SIGKILL after a grace period; resolves once the process has exited. */
export async function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        child.once('exit', () => {
            clearTimeout(timer);
            resolve();
        });
        child.kill('SIGTERM');
    });
}

export function localAzuriteFolder(dataDir: string): string {
    return join(dataDir, 'azurite');
}
