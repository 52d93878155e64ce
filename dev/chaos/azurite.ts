/**
 * Azurite for a chaos run: a child process persisted to a folder, on fixed ports, so that it can be
 * stopped and started again with its data (queues, blobs, leases) as it was. Its clock can be moved
 * on (see azuriteClock.ts), and stays moved across restarts so that time never runs backwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { isPortOpen, stopChild, type AzuritePorts } from '../azurite';
import { freePorts } from '../ports';
import { connectionStringFor } from '../storageConnection';
import { repoRoot } from './paths';

/** The Functions host keeps a message it works on invisible this long (azure-webjobs-sdk#1040), plus a margin. */
export const hostHoldMs = 10 * 60_000 + 5_000;

export class ChaosAzurite {
    #child: ChildProcess | undefined;
    #output = '';
    #offsetMs = 0;

    private constructor(
        readonly ports: AzuritePorts,
        readonly location: string,
    ) {}

    static async create(location: string): Promise<ChaosAzurite> {
        const [blobPort, queuePort, tablePort] = await freePorts(3);
        const ports = { blobPort, queuePort, tablePort };
        return new ChaosAzurite(ports, location);
    }

    get connectionString(): string {
        return connectionStringFor(this.ports);
    }

    get running(): boolean {
        return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
    }

    get pid(): number | undefined {
        return this.#child?.pid;
    }

    async start(): Promise<void> {
        if (this.running) return;
        mkdirSync(this.location, { recursive: true });
        const { blobPort, queuePort, tablePort } = this.ports;
        this.#output = '';
        const child = spawn(
            process.execPath,
            [
                '--require',
                join(repoRoot, 'dist', 'dev', 'chaos', 'azuriteClock.js'),
                require.resolve('azurite/dist/src/azurite.js'),
                ...['--location', this.location],
                '--skipApiVersionCheck',
                '--disableTelemetry',
                '--loose',
                '--silent',
                ...['--blobHost', '127.0.0.1', '--blobPort', String(blobPort)],
                ...['--queueHost', '127.0.0.1', '--queuePort', String(queuePort)],
                ...['--tableHost', '127.0.0.1', '--tablePort', String(tablePort)],
            ],
            {
                cwd: this.location,
                env: {
                    ...process.env,
                    CHAOS_CLOCK_OFFSET_MS: String(this.#offsetMs),
                    CHAOS_CLOCK_STEP_MS: String(hostHoldMs),
                },
                stdio: ['ignore', 'pipe', 'pipe'],
            },
        );
        this.#child = child;
        child.stdout.on('data', (chunk: Buffer) => (this.#output += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (this.#output += chunk.toString()));
        const deadline = Date.now() + 30_000;
        for (;;) {
            if (child.exitCode !== null) {
                throw new Error(`Azurite exited with code ${child.exitCode}: ${this.#output.trim()}`);
            }
            const open = await Promise.all([blobPort, queuePort, tablePort].map((port) => isPortOpen(port)));
            if (open.every(Boolean)) return;
            if (Date.now() > deadline) {
                child.kill('SIGKILL');
                throw new Error(
                    `Azurite did not listen on ${blobPort}/${queuePort}/${tablePort} within 30 s: ${this.#output}`,
                );
            }
            await new Promise((resolve) => setTimeout(resolve, 100));
        }
    }

    /** SIGTERM (Azurite saves its metadata and closes), SIGKILL after 10 s. */
    async stop(): Promise<void> {
        if (this.#child) await stopChild(this.#child, 10_000);
        this.#child = undefined;
    }

    /** Moves Azurite's clock on by the host's hold (azuriteClock.ts), and waits until it says so. */
    async skipHostHold(): Promise<void> {
        this.#offsetMs += hostHoldMs;
        const child = this.#child;
        if (!this.running || !child?.pid) return; // a later start() begins at the new offset
        const acknowledged = `chaos-clock offsetMs=${this.#offsetMs}`;
        const mark = this.#output.length;
        process.kill(child.pid, 'SIGUSR2');
        const deadline = Date.now() + 5_000;
        while (!this.#output.slice(mark).includes(acknowledged)) {
            if (Date.now() > deadline) throw new Error(`Azurite did not acknowledge the clock move: ${this.#output}`);
            await new Promise((resolve) => setTimeout(resolve, 20));
        }
    }
}
