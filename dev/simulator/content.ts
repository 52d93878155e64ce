import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { generatedStream } from './dataGenerator';
import { type ContentInput } from './types';

/**
 * Where a data element's or broker file's bytes come from: a small buffer, the deterministic
 * generator, or a file on disk (what a sender uploaded to Broker, of any size).
 */
export type ContentSource =
    | { kind: 'bytes'; data: Buffer }
    | { kind: 'generated'; seed: string; size: number }
    | { kind: 'file'; path: string; size: number };

export function contentFromInput(input: ContentInput, defaultSeed: string): ContentSource {
    if ('content' in input && typeof input.content === 'string') {
        const data = Buffer.from(input.content, input.encoding === 'base64' ? 'base64' : 'utf8');
        return { kind: 'bytes', data };
    }
    if ('size' in input && Number.isSafeInteger(input.size) && input.size >= 0) {
        return { kind: 'generated', seed: input.seed ?? defaultSeed, size: input.size };
    }
    throw new Error(
        'Content needs either `content` (string) or `size` (a non-negative integer) with an optional `seed`',
    );
}

export function contentSize(source: ContentSource | undefined): number {
    if (!source) return 0;
    return source.kind === 'bytes' ? source.data.length : source.size;
}

/** Bytes [start, end) as a stream that is only produced as fast as the reader consumes it. */
export function openContent(source: ContentSource, start = 0, end = contentSize(source)): Readable {
    if (source.kind === 'bytes') {
        return Readable.from([source.data.subarray(start, end)], { objectMode: false });
    }
    if (source.kind === 'file') {
        return end > start ? createReadStream(source.path, { start, end: end - 1 }) : Readable.from([]);
    }
    return generatedStream(source.seed, start, end);
}

export async function digestContent(source: ContentSource, algorithm: string): Promise<string> {
    const hash = createHash(algorithm);
    for await (const chunk of openContent(source)) {
        hash.update(chunk as Buffer);
    }
    return hash.digest('hex');
}

export interface ByteRange {
    start: number;
    /** exclusive */
    end: number;
}

/**
 * A single `bytes=` range as ASP.NET's range processing reads it: undefined to serve the whole
 * body (no header, a malformed header, or several ranges), 'unsatisfiable' for a 416.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
    if (!header) {
        return undefined;
    }
    const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
    if (!match || (match[1] === '' && match[2] === '')) {
        return undefined;
    }
    if (match[1] === '') {
        const suffix = Number(match[2]);
        if (suffix === 0 || size === 0) {
            return 'unsatisfiable';
        }
        return { start: Math.max(0, size - suffix), end: size };
    }
    const start = Number(match[1]);
    const last = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
    if (start >= size || (match[2] !== '' && Number(match[2]) < start)) {
        return 'unsatisfiable';
    }
    return { start, end: last + 1 };
}
