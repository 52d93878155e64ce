/**
 * The local Functions host (dev/host) as a child process on a fixed port, so that it can be killed
 * and started again behind the same webhook URL. Everything it prints is kept (and written to a
 * log file) for the run's figures and for reading afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { stopChild } from '../azurite';
import { hostCli, repoRoot } from './paths';

export class ChaosHost {
    #child: ChildProcess | undefined;
    #exited: Promise<void> = Promise.resolve();
    readonly #log: WriteStream;
    readonly lines: string[] = [];
    starts = 0;

    constructor(
        readonly port: number,
        private readonly env: Record<string, string>,
        readonly logFile: string,
    ) {
        this.#log = createWriteStream(logFile, { flags: 'a' });
    }

    get url(): string {
        return `http://127.0.0.1:${this.port}`;
    }

    get running(): boolean {
        return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
    }

    async start(timeoutMs = 60_000): Promise<void> {
        const mark = this.lines.length;
        this.starts++;
        this.record(`---- chaos: starting the host (start ${this.starts}) ----`);
        const child = spawn(process.execPath, [hostCli, '--port', String(this.port), '--app', repoRoot], {
            cwd: repoRoot,
            env: { ...process.env, ...this.env },
            stdio: ['ignore', 'pipe', 'pipe'],
        });
        this.#child = child;
        this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
        createInterface({ input: child.stdout }).on('line', (line) => this.record(line));
        createInterface({ input: child.stderr }).on('line', (line) => this.record(line));
        await this.waitFor(/Host started \(\d+ms\)/, timeoutMs, mark);
    }

    /** SIGKILL: no draining, no settling of the messages it holds. */
    async kill(): Promise<void> {
        if (this.running) this.#child!.kill('SIGKILL');
        await this.#exited;
        this.record('---- chaos: host killed (SIGKILL) ----');
    }

    /** SIGTERM: the host drains in-flight invocations (up to 30 s). Closes the log file. */
    async stop(): Promise<void> {
        if (this.#child) await stopChild(this.#child, 40_000);
        await new Promise((resolve) => this.#log.end(resolve));
    }

    /** Invocations started and not finished, by function name. */
    inFlight(): Record<string, number> {
        const open = new Map<string, string>();
        for (const line of this.lines) {
            if (line.startsWith('---- chaos: starting')) open.clear();
            const started = /Executing 'Functions\.(\w+)' \(.*Id=([\w-]+)\)/.exec(line);
            if (started) open.set(started[2], started[1]);
            const finished = /Executed 'Functions\.\w+' \((?:Succeeded|Failed), Id=([\w-]+)/.exec(line);
            if (finished) open.delete(finished[1]);
        }
        const counts: Record<string, number> = {};
        for (const name of open.values()) counts[name] = (counts[name] ?? 0) + 1;
        return counts;
    }

    /** Lines matching `pattern` (from line `from` on). */
    matching(pattern: RegExp, from = 0): string[] {
        return this.lines.slice(from).filter((line) => pattern.test(line));
    }

    async waitFor(pattern: RegExp, timeoutMs: number, from = 0): Promise<string> {
        const deadline = Date.now() + timeoutMs;
        let checked = from;
        for (;;) {
            for (; checked < this.lines.length; checked++) {
                if (pattern.test(this.lines[checked])) return this.lines[checked];
            }
            if (this.#child && !this.running) {
                throw new Error(`The host exited before printing ${pattern}; see ${this.logFile}`);
            }
            if (Date.now() > deadline) {
                throw new Error(`The host did not print ${pattern} within ${timeoutMs} ms; see ${this.logFile}`);
            }
            await new Promise((resolve) => setTimeout(resolve, 50));
        }
    }

    record(line: string): void {
        this.lines.push(line);
        if (!this.#log.writableEnded) this.#log.write(`${line}\n`);
    }
}
