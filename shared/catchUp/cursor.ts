/**
 * The catch-up cursor of one app: aos-state/catch-up/{org}/{app}.json
 *
 *   {"after": "<id of the last event queued>", "types": [...], "updated": "<ISO time>"}
 *   {"from": "<ISO time>", "types": [...], "updated": "..."}   before the first event was seen
 *
 * Every write is conditional on the ETag read (If-Match), or on there being no cursor yet
 * (If-None-Match: *), so two runs can never move it backwards: the one that loses gets a
 * {@link CursorConflictError} and stops.
 */
import type { ContainerClient } from '@azure/storage-blob';
import { storageStatus } from '../subscriptions/blobs';

export interface Cursor {
    /** Id of the last event queued; the next query continues after it. */
    after?: string;
    /** Start time of the first query, until an event has been seen. */
    from?: string;
    /** The event types the cursor was built with (informational: a new type is fetched only from here on). */
    types?: string[];
    updated: string;
}

export interface StoredCursor {
    cursor?: Cursor;
    /** undefined when there is no cursor blob yet. */
    etag?: string;
}

export class CursorConflictError extends Error {
    constructor(readonly blobName: string) {
        super(`The catch-up cursor ${blobName} was moved by a concurrent run`);
        this.name = 'CursorConflictError';
    }
}

export class InvalidCursorError extends Error {
    constructor(
        readonly blobName: string,
        problem: string,
    ) {
        super(
            `The catch-up cursor ${blobName} ${problem}; fix it ({"after": "<event id>"} or {"from": "<ISO time>"}) or delete it to start again`,
        );
        this.name = 'InvalidCursorError';
    }
}

export function cursorBlobName(org: string, app: string): string {
    return `catch-up/${org}/${app}.json`;
}

export class CursorStore {
    constructor(private readonly container: ContainerClient) {}

    async read(org: string, app: string): Promise<StoredCursor> {
        const blobName = cursorBlobName(org, app);
        let text: string;
        let etag: string | undefined;
        try {
            const response = await this.container.getBlobClient(blobName).download();
            etag = response.etag;
            text = (await streamToBuffer(response.readableStreamBody)).toString('utf8');
        } catch (error) {
            if (storageStatus(error) === 404) return {};
            throw error;
        }
        return { cursor: parseCursor(blobName, text), etag };
    }

    /** Writes the cursor if nobody else has since `etag` (none: if there is no cursor yet); returns the new ETag. */
    async write(org: string, app: string, cursor: Cursor, etag: string | undefined): Promise<string> {
        const blobName = cursorBlobName(org, app);
        const text = `${JSON.stringify(cursor)}\n`;
        const blob = this.container.getBlockBlobClient(blobName);
        const upload = () =>
            blob.upload(text, Buffer.byteLength(text), {
                blobHTTPHeaders: { blobContentType: 'application/json; charset=utf-8' },
                conditions: etag === undefined ? { ifNoneMatch: '*' } : { ifMatch: etag },
            });
        try {
            return (await upload()).etag!;
        } catch (error) {
            const status = storageStatus(error);
            if (status === 412 || status === 409) throw new CursorConflictError(blobName);
            if (status !== 404 || etag !== undefined) throw error;
            await this.container.createIfNotExists();
            try {
                return (await upload()).etag!;
            } catch (retryError) {
                const retryStatus = storageStatus(retryError);
                if (retryStatus === 412 || retryStatus === 409) throw new CursorConflictError(blobName);
                throw retryError;
            }
        }
    }
}

function parseCursor(blobName: string, text: string): Cursor {
    let value: unknown;
    try {
        value = JSON.parse(text.replace(/^\uFEFF/, ''));
    } catch {
        throw new InvalidCursorError(blobName, 'is not valid JSON');
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new InvalidCursorError(blobName, 'is not a JSON object');
    }
    const { after, from, types, updated } = value as Record<string, unknown>;
    if (after !== undefined && (typeof after !== 'string' || after === '')) {
        throw new InvalidCursorError(blobName, 'has an "after" that is not a non-empty string');
    }
    if (from !== undefined && (typeof from !== 'string' || Number.isNaN(Date.parse(from)))) {
        throw new InvalidCursorError(blobName, 'has a "from" that is not an ISO time');
    }
    if (after === undefined && from === undefined) {
        throw new InvalidCursorError(blobName, 'has neither "after" nor "from"');
    }
    return {
        ...(after !== undefined ? { after } : {}),
        ...(from !== undefined ? { from } : {}),
        ...(Array.isArray(types) ? { types: types.filter((t): t is string => typeof t === 'string') } : {}),
        updated: typeof updated === 'string' ? updated : '',
    };
}

async function streamToBuffer(stream: NodeJS.ReadableStream | undefined): Promise<Buffer> {
    if (!stream) return Buffer.alloc(0);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    return Buffer.concat(chunks);
}
