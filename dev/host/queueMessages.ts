/**
 * Queue message text on the wire, per host.json `messageEncoding`: `base64` (the host's
 * default, what the C# reference and the Microsoft e2e tests send) or `none`. Also turns the
 * typed data a function hands to a queue output binding into messages: an array is one
 * message per element, as the host does.
 */
import type { RpcTypedData } from './coreTypes';
import type { MessageEncoding } from './hostJson';

export type DecodeResult =
    { readonly ok: true; readonly text: string } | { readonly ok: false; readonly reason: string };

/** Strict base64, as .NET's Convert.FromBase64String (whitespace ignored, length a multiple of 4). */
export function decodeMessage(messageText: string, encoding: MessageEncoding): DecodeResult {
    if (encoding === 'none') return { ok: true, text: messageText };
    const compact = messageText.replace(/\s+/g, '');
    if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) {
        return { ok: false, reason: 'the message is not valid base64 (host.json messageEncoding is base64)' };
    }
    return { ok: true, text: Buffer.from(compact, 'base64').toString('utf8') };
}

export function encodeMessage(content: string | Uint8Array, encoding: MessageEncoding): string {
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content);
    return encoding === 'base64' ? bytes.toString('base64') : bytes.toString('utf8');
}

/** The messages a queue output binding value stands for (empty when the function set nothing). */
export function outputMessages(data: RpcTypedData | null | undefined): (string | Uint8Array)[] {
    if (!data) return [];
    if (data.string !== undefined && data.string !== null) return [data.string];
    if (data.bytes) return [data.bytes];
    if (data.stream) return [data.stream];
    if (data.int !== undefined && data.int !== null) return [String(data.int)];
    if (data.double !== undefined && data.double !== null) return [String(data.double)];
    if (data.collectionString?.string) return data.collectionString.string;
    if (data.collectionBytes?.bytes) return data.collectionBytes.bytes;
    if (data.json !== undefined && data.json !== null) {
        const value: unknown = JSON.parse(data.json);
        if (Array.isArray(value)) {
            return value.map((item: unknown) => (typeof item === 'string' ? item : JSON.stringify(item)));
        }
        return [data.json];
    }
    return [];
}
