/**
 * One structured line per step, in logfmt (`step=stored eventId=… bytes=…`), so that both a
 * person reading the stream and a Log Analytics query (parse_kv) can use it. Text values pass
 * through redactPersonalData: no line carries a national identity number or an alternativesubject.
 */
import { isPersonalField, redactPersonalData, redacted } from './redact';

export type LogFields = Record<string, string | number | boolean | undefined | null>;

export interface StepLogger {
    info(...args: unknown[]): void;
    warn(...args: unknown[]): void;
    error(...args: unknown[]): void;
}

/**
 * What JSON.stringify leaves raw but must not reach a log line as it is: C1 controls (NEL, U+0085,
 * ends a line for some readers), the line and paragraph separators, and bidi controls (which
 * reorder what a reader sees).
 */
const rawInJson = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const needsQuotes = /[\s"=\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
/** A lone surrogate would print as U+FFFD; JSON.stringify escapes it. */
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function formatValue(value: string | number | boolean): string {
    // Numbers are this system's own counts and durations; only text can carry someone's identity.
    const text = typeof value === 'string' ? redactPersonalData(value) : String(value);
    if (text !== '' && !needsQuotes.test(text) && !loneSurrogate.test(text)) return text;
    // Quoted, every control, separator and bidi character escaped: no value can start a line of its own.
    return JSON.stringify(text).replace(rawInJson, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function formatFields(step: string, fields: LogFields): string {
    const parts = [`step=${formatValue(step)}`];
    for (const [key, value] of Object.entries(fields)) {
        if (value === undefined || value === null) continue;
        parts.push(`${key}=${formatValue(isPersonalField(key) ? redacted : value)}`);
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
