/**
 * What `aos` prints goes to an operator's terminal and often into a ticket. Ids and texts in it come
 * from outside (a CloudEvent's id, a blob name, Altinn's error bodies), so every line is made safe on
 * its way out: personal data redacted (shared/redact.ts), and control, line-separator and bidi
 * characters escaped as \uXXXX, so that no id can move the cursor, clear the screen, start a line of
 * its own or reorder what the reader sees. Tabs and the line breaks between lines stay.
 */
import { redactPersonalData } from '../shared/redact';
import type { CliIo } from './cli';

const unprintable =
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const escaped = (char: string): string => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** The text as it may be printed: redacted, every unprintable character escaped, line by line. */
export function printable(text: string): string {
    return text
        .split('\n')
        .map((line) => redactPersonalData(line).replace(unprintable, escaped))
        .join('\n');
}

/** The same io, printing only {@link printable} text. */
export function printableIo(io: CliIo): CliIo {
    return { ...io, out: (line) => io.out(printable(line)), err: (line) => io.err(printable(line)) };
}
