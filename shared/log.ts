/**
 * One structured line per step, in logfmt (`step=stored eventId=… bytes=…`), so that both a
 * person reading the stream and a Log Analytics query (parse_kv) can use it.
 */
export type LogFields = Record<string, string | number | boolean | undefined | null>;

export interface StepLogger {
    info(...args: unknown[]): void;
    warn(...args: unknown[]): void;
    error(...args: unknown[]): void;
}

function formatValue(value: string | number | boolean): string {
    const text = String(value);
    return /^[^\s"=]+$/.test(text) ? text : JSON.stringify(text);
}

export function formatFields(step: string, fields: LogFields): string {
    const parts = [`step=${formatValue(step)}`];
    for (const [key, value] of Object.entries(fields)) {
        if (value !== undefined && value !== null) parts.push(`${key}=${formatValue(value)}`);
    }
    return parts.join(' ');
}

export function logStep(logger: StepLogger, step: string, fields: LogFields = {}): void {
    logger.info(formatFields(step, fields));
}

export function warnStep(logger: StepLogger, step: string, fields: LogFields = {}): void {
    logger.warn(formatFields(step, fields));
}

export function errorStep(logger: StepLogger, step: string, fields: LogFields = {}): void {
    logger.error(formatFields(step, fields));
}

export function errorMessage(error: unknown): string {
    return error instanceof Error ? error.message : String(error);
}
