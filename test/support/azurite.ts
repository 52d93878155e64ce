import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, freePorts } from '../../dev/ports';
import { connectionStringFor } from '../../dev/storageConnection';

/** A private Azurite for one test suite: its own ports and an empty in-memory store. */
export interface AzuriteInstance {
    readonly blobPort: number;
    readonly queuePort: number;
    readonly tablePort: number;
    readonly connectionString: string;
    stop(): Promise<void>;
}

export { connectionStringFor, freePort };

function azuriteBin(): string {
    return join(__dirname, '..', '..', 'node_modules', 'azurite', 'dist', 'src', 'azurite.js');
}

/**
 * Starts Azurite (blob and queue) on free loopback ports. The process is tracked by PID and
 * killed by stop(); pass the same ports to restart it after a stop (data is lost: in-memory).
 */
export async function startAzurite(ports?: {
    blobPort: number;
    queuePort: number;
    tablePort?: number;
}): Promise<AzuriteInstance> {
    // Picked together, so that two of them are never the same port.
    const [blobPort, queuePort, tablePort] = ports
        ? [ports.blobPort, ports.queuePort, ports.tablePort ?? (await freePort())]
        : await freePorts(3);
    const workDir = mkdtempSync(join(tmpdir(), 'azurite-'));
    const child = spawn(
        process.execPath,
        [
            azuriteBin(),
            '--inMemoryPersistence',
            '--disableTelemetry',
            '--skipApiVersionCheck',
            '--loose',
            '--silent',
            '--blobHost',
            '127.0.0.1',
            '--blobPort',
            String(blobPort),
            '--queueHost',
            '127.0.0.1',
            '--queuePort',
            String(queuePort),
            '--tableHost',
            '127.0.0.1',
            '--tablePort',
            String(tablePort),
        ],
        // In-memory Azurite refuses --location, so its working folder is set through cwd instead.
        { cwd: workDir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    await waitForListening(child, [blobPort, queuePort, tablePort]);
    return {
        blobPort,
        queuePort,
        tablePort,
        connectionString: connectionStringFor({ blobPort, queuePort, tablePort }),
        stop: () => stopProcess(child).then(() => rmSync(workDir, { recursive: true, force: true })),
    };
}

async function waitForListening(child: ChildProcess, ports: number[]): Promise<void> {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
        if (child.exitCode !== null) throw new Error(`Azurite exited with ${child.exitCode}: ${output}`);
        const open = await Promise.all(ports.map((port) => isPortOpen(port)));
        if (open.every(Boolean)) return;
        await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGKILL');
    throw new Error(`Azurite did not listen on ${ports.join(', ')} within 30 s: ${output}`);
}

async function isPortOpen(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = connect(port, '127.0.0.1');
        socket.once('connect', () => {
            socket.destroy();
            resolve(true);
        });
        socket.once('error', () => resolve(false));
    });
}

export async function stopProcess(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
            clearTimeout(timer);
            resolve();
        });
        child.kill('SIGTERM');
    });
}
