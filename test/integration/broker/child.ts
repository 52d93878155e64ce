import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../support/host';

/*
 * BrokerProcessor in a child process of its own (processorChild.js runs the compiled function),
 * so that a test can measure its memory alone, or kill it mid-download as a crash would.
 */

export interface Invocation {
    index: number;
    baselineRss: number;
    peakRss: number;
    maxRss: number;
    error?: string;
}

export interface ChildLog {
    level: string;
    line: string;
}

export interface ProcessorChild {
    readonly child: ChildProcess;
    readonly logs: ChildLog[];
    readonly invocations: Invocation[];
    /** What the child printed (stdout and stderr): @azure/functions' test-mode notes, or a crash. */
    output(): string;
    /** Resolves with the exit code (null when killed). */
    readonly exited: Promise<number | null>;
    /** Resolves when a log line matches. */
    waitForLog(pattern: RegExp, timeoutMs?: number): Promise<ChildLog>;
    kill(): Promise<number | null>;
}

const script = join(__dirname, 'processorChild.js');

/** Runs BrokerProcessor, or another queue function of dist/functions (e.g. 'brokerSender'), on `messages`. */
export function startProcessorChild(
    env: Record<string, string>,
    messages: unknown[],
    functionName = 'brokerProcessor',
): ProcessorChild {
    if (!existsSync(join(repoRoot, 'dist', 'functions', `${functionName}.js`))) {
        throw new Error(`dist/functions/${functionName}.js is missing: run npm run build first.`);
    }
    const child = fork(script, [JSON.stringify(messages), functionName], {
        cwd: repoRoot,
        env: { ...process.env, ...env },
        execArgv: ['--expose-gc'],
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const logs: ChildLog[] = [];
    const invocations: Invocation[] = [];
    const listeners = new Set<() => void>();
    child.on('message', (message: { type: string } & Partial<ChildLog & Invocation>) => {
        if (message.type === 'log') logs.push({ level: message.level!, line: message.line! });
        if (message.type === 'invoked') invocations.push(message as Invocation);
        listeners.forEach((listener) => listener());
    });
    const exited = new Promise<number | null>((resolve) => {
        child.once('exit', (code) => {
            resolve(code);
            listeners.forEach((listener) => listener());
        });
    });
    return {
        child,
        logs,
        invocations,
        exited,
        output: () => output,
        waitForLog: (pattern, timeoutMs = 30_000) =>
            new Promise((resolve, reject) => {
                const check = (): void => {
                    const found = logs.find((log) => pattern.test(log.line));
                    if (found) {
                        done();
                        resolve(found);
                    } else if (child.exitCode !== null || child.signalCode !== null) {
                        done();
                        reject(new Error(`The child exited before logging ${pattern}:\n${lines(logs)}`));
                    }
                };
                const timer = setTimeout(() => {
                    done();
                    reject(new Error(`The child did not log ${pattern} within ${timeoutMs} ms:\n${lines(logs)}`));
                }, timeoutMs);
                const done = (): void => {
                    clearTimeout(timer);
                    listeners.delete(check);
                };
                listeners.add(check);
                check();
            }),
        kill: () => {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
            return exited;
        },
    };
}

export function lines(logs: ChildLog[]): string {
    return logs.map((log) => `${log.level} ${log.line}`).join('\n');
}
