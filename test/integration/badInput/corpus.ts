import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostProcess } from '../../support/host';

/*
 * The bad-input corpus (test/fixtures/bad-input/*.json): loading it, filling in its placeholders,
 * turning a case into bytes, and the log checks every bad-input suite makes.
 */

const folder = join(__dirname, '..', '..', 'fixtures', 'bad-input');

export type Outcome = 'refused' | 'skipped' | 'gone';

export interface InputCase {
    name: string;
    why: string;
    /** Sent as JSON. */
    json?: unknown;
    /** Sent as text. */
    body?: string;
    /** Sent as these bytes. */
    bodyBase64?: string;
    /** Text and hex bytes in a row. */
    bodyParts?: (string | { hex: string })[];
}

export interface ReceiverCase extends InputCase {
    contentType?: string;
    /** Sent without Content-Length (chunked). */
    chunked?: boolean;
    expect: { status: number; title?: string; detail?: string; queued?: boolean; processor?: Outcome };
}

export interface SubscriptionCase extends InputCase {
    container: 'add-subscriptions' | 'remove-subscriptions';
    blob: string;
    expect: { error: string };
}

function load<T>(file: string): T[] {
    return (JSON.parse(readFileSync(join(folder, file), 'utf8')) as { cases: T[] }).cases;
}

export const receiverCases = load<ReceiverCase>('receiver.json');
export const subscriptionCases = load<SubscriptionCase>('subscriptions.json');

/** Fills in {{name}} placeholders and {{repeat:N:X}}. */
export function expand(text: string, vars: Record<string, string>): string {
    return text.replace(/\{\{(repeat:(\d+):(.)|\w+)\}\}/gs, (whole, name: string, count?: string, char?: string) => {
        if (count !== undefined && char !== undefined) return char.repeat(Number(count));
        const value = vars[name];
        if (value === undefined) throw new Error(`No value for the placeholder ${whole}`);
        return value;
    });
}

function expandDeep(value: unknown, vars: Record<string, string>): unknown {
    if (typeof value === 'string') return expand(value, vars);
    if (Array.isArray(value)) return value.map((item) => expandDeep(item, vars));
    if (value && typeof value === 'object') {
        return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, expandDeep(item, vars)]));
    }
    return value;
}

/** The bytes a case sends (or writes). */
export function inputBytes(input: InputCase, vars: Record<string, string>): Buffer {
    if (input.bodyBase64 !== undefined) return Buffer.from(input.bodyBase64, 'base64');
    if (input.bodyParts !== undefined) {
        return Buffer.concat(
            input.bodyParts.map((part) =>
                typeof part === 'string'
                    ? Buffer.from(expand(part, vars), 'utf8')
                    : Buffer.from(part.hex.replace(/\s+/g, ''), 'hex'),
            ),
        );
    }
    if (input.body !== undefined) return Buffer.from(expand(input.body, vars), 'utf8');
    return Buffer.from(JSON.stringify(expandDeep(input.json, vars)), 'utf8');
}

/** Characters that only the corpus puts into the system; none may reach the host's output raw. */
export const rawForbidden: Record<string, string> = {
    NUL: '\u0000',
    ESC: '\u001b',
    NEL: '\u0085',
    'LINE SEPARATOR': '\u2028',
    'PARAGRAPH SEPARATOR': '\u2029',
    'RIGHT-TO-LEFT OVERRIDE': '\u202e',
};

/** Lines of the host's output that the input managed to start (log injection): every FORGED text must stay inside a line. */
export function forgedLines(output: string): string[] {
    return output.split(/\r\n|\r|\n|\u2028|\u2029|\u0085/).filter((line) => /^(\[[^\]]*\]\s*)?FORGED/.test(line));
}

export function rawControlCharacters(output: string): string[] {
    return Object.entries(rawForbidden)
        .filter(([, char]) => output.includes(char))
        .map(([name]) => name);
}

/** A failed wait says what the host printed. */
export async function hostWait<T>(host: HostProcess, wait: Promise<T>): Promise<T> {
    try {
        return await wait;
    } catch (error) {
        throw new Error(`${(error as Error).message}\nhost output (tail):\n${host.output().slice(-4000)}`, {
            cause: error,
        });
    }
}
