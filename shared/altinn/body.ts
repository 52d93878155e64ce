/** Reading response bodies: whole (bounded), the start of an error body, or not at all. */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { ProblemBody } from './errors';

const ERROR_BODY_BYTES = 16 * 1024;

/** Frees the connection of a response we do not want; a failure here changes nothing. */
export async function discard(body: Readable): Promise<void> {
    try {
        await (body as Readable & { dump(): Promise<void> }).dump();
    } catch {
        body.destroy();
    }
}

/** Reads at most `limit` bytes; undefined (and the stream destroyed) when the body is larger. */
export async function readAll(body: Readable, limit: number): Promise<Buffer | undefined> {
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of body) {
        const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
        total += buffer.length;
        if (total > limit) {
            body.destroy();
            return undefined;
        }
        chunks.push(buffer);
    }
    return Buffer.concat(chunks);
}

/** The problem details (or the start of the text) of an error response, for the error message. */
export async function readErrorBody(
    body: Readable,
    headers: IncomingHttpHeaders,
): Promise<{ problem?: ProblemBody; bodyText?: string }> {
    let text: string;
    try {
        const chunks: Buffer[] = [];
        let total = 0;
        for await (const chunk of body) {
            const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
            chunks.push(buffer);
            total += buffer.length;
            if (total >= ERROR_BODY_BYTES) break; // leaving the loop destroys the stream
        }
        text = Buffer.concat(chunks).toString('utf8').slice(0, ERROR_BODY_BYTES);
    } catch {
        return {};
    }
    if (!text.trim()) return {};
    if (/json/i.test(String(headers['content-type'])) || /^\s*\{/.test(text)) {
        try {
            const parsed: unknown = JSON.parse(text);
            if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
                return { problem: parsed as ProblemBody };
        } catch {
            // not JSON after all: fall through to text
        }
    }
    return { bodyText: text.replace(/\s+/g, ' ').trim().slice(0, 300) };
}
