/**
 * Console output in the shape `func start` prints, so that people (and tests, and the dev
 * starter) can read the local host the way they read Core Tools:
 * `[2026-11-22T10:00:00.000Z] Executing 'Functions.X' (Reason='...', Id=...)`.
 */

/** Receives one finished line (no trailing newline). */
export type LineWriter = (line: string) => void;

export const writeToStdout: LineWriter = (line) => {
    process.stdout.write(`${line}\n`);
};

export class HostLog {
    constructor(private readonly write: LineWriter = writeToStdout) {}

    /** A timestamped line; multi-line messages keep one timestamp, as func does. */
    line(message: string): void {
        this.write(`[${new Date().toISOString()}] ${message}`);
    }

    /** A line without timestamp, for the start-up banner (function list). */
    plain(message: string): void {
        this.write(message);
    }
}

/** The message of anything thrown, without assuming it is an Error. */
export function errorMessage(error: unknown): string {
    if (error instanceof Error) return error.message;
    if (typeof error === 'string') return error;
    try {
        return JSON.stringify(error);
    } catch {
        return String(error);
    }
}

/** A configuration or start-up problem: the CLI prints only its message, without a stack. */
export class HostStartupError extends Error {
    override readonly name = 'HostStartupError';
}

/**
 * The Functions host's error when a start-up attempt fails, word for word (azure-functions-host,
 * src/WebJobs.Script.WebHost/Diagnostics/Extensions/ScriptHostServiceLoggerExtension.cs, EventId 515
 * ErrorOccuredDuringStartupOperation): the host-start alert (infra/app/alerts.bicep) matches it.
 */
export function hostStartupErrorLine(operationId: string): string {
    return `A host error has occurred during startup operation '${operationId}'.`;
}
