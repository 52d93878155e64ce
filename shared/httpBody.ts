import type { HttpRequest } from '@azure/functions';

export class BodyTooLargeError extends Error {
    constructor(readonly limit: number) {
        super(`The body is larger than ${limit} bytes.`);
        this.name = 'BodyTooLargeError';
    }
}

/** Reads a request body as UTF-8, refusing it as soon as it passes `limit` bytes, without buffering more. */
export async function readBodyWithLimit(request: HttpRequest, limit: number): Promise<string> {
    const declared = Number(request.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > limit) throw new BodyTooLargeError(limit);
    if (!request.body) return '';
    const reader = request.body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
        const { done, value } = (await reader.read()) as { done: boolean; value?: Uint8Array };
        if (done) break;
        if (!value) continue;
        total += value.byteLength;
        if (total > limit) {
            await reader.cancel();
            throw new BodyTooLargeError(limit);
        }
        chunks.push(value);
    }
    return Buffer.concat(chunks).toString('utf8');
}
