import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import {
    blockId,
    ChecksumMismatchError,
    ConcurrentDownloadError,
    DownloadMismatchError,
    DownloadStalledError,
    downloadResumable,
    type DownloadResponse,
    type ResumableDownloadOptions,
} from '../../../shared/broker/download';
import { startAzurite, type AzuriteInstance } from '../../support/azurite';
import { invocationContext } from '../../support/functions';

/*
 * The resumable writer alone, against Azurite, with a scripted server: each response can break
 * after a number of bytes, ignore the Range header, or answer another range than asked.
 */

const CHUNK = 64 * 1024;
let azurite: AzuriteInstance;
let container: ContainerClient;
let n = 0;

beforeAll(async () => {
    azurite = await startAzurite();
    container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('broker');
    await container.createIfNotExists();
}, 60_000);

afterAll(() => azurite.stop());

interface Script {
    /** Break the n-th response (0-based) after this many body bytes. */
    breakAfter?: (number | undefined)[];
    /** Answer 200 with the whole file regardless of Range. */
    ignoreRange?: boolean;
    /** Shift the Content-Range start by this much. */
    wrongRange?: number;
    /** Extra bytes after the file. */
    extra?: number;
}

function server(file: Buffer, script: Script = {}) {
    const opened: number[] = [];
    let served = 0;
    const open = (offset: number): Promise<DownloadResponse> => {
        const index = opened.length;
        opened.push(offset);
        const start = script.ignoreRange ? 0 : offset;
        let body = file.subarray(start);
        if (script.extra) body = Buffer.concat([body, Buffer.alloc(script.extra)]);
        const limit = script.breakAfter?.[index];
        const pieces: Buffer[] = [];
        for (let i = 0; i < body.length; i += 10_000) pieces.push(body.subarray(i, i + 10_000));
        let sent = 0;
        let broken = false;
        const stream = new Readable({
            read() {
                if (broken) {
                    // After the bytes before the break were read, as a socket that closes would.
                    this.destroy(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }));
                    return;
                }
                let next = pieces.shift();
                if (limit !== undefined && (next === undefined || sent + next.length >= limit)) {
                    broken = true;
                    next = next?.subarray(0, Math.max(0, limit - sent));
                    if (!next?.length) {
                        this.destroy(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }));
                        return;
                    }
                }
                if (next) {
                    sent += next.length;
                    served += next.length;
                }
                this.push(next ?? null);
            },
        });
        const headers =
            offset > 0 && !script.ignoreRange
                ? { 'content-range': `bytes ${offset + (script.wrongRange ?? 0)}-${file.length - 1}/${file.length}` }
                : {};
        return Promise.resolve({ status: offset > 0 && !script.ignoreRange ? 206 : 200, headers, body: stream });
    };
    return { open, opened, served: () => served };
}

function options(file: Buffer, open: ResumableDownloadOptions['open'], extra: Partial<ResumableDownloadOptions> = {}) {
    const { context, logs } = invocationContext('download-test');
    return {
        logs,
        options: {
            blob: container.getBlockBlobClient(`r/${++n}/file.bin`),
            size: file.length,
            expectedMd5: createHash('md5').update(file).digest(),
            open,
            httpHeaders: { blobContentType: 'application/octet-stream' },
            metadata: { filetransferid: String(n) },
            chunkBytes: CHUNK,
            retryDelayMs: () => 1,
            logger: context,
            ...extra,
        } satisfies ResumableDownloadOptions,
    };
}

const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

test('stores the file in fixed blocks, Content-MD5 and sha256 set and partial gone, reading nothing back', async () => {
    const file = randomBytes(3 * CHUNK + 100);
    const s = server(file);
    const { options: o } = options(file, s.open);
    const reads = jest.spyOn(o.blob, 'download');
    const result = await downloadResumable(o);
    expect(result).toMatchObject({
        bytes: file.length,
        md5: md5(file),
        sha256: sha256(file),
        resumedFrom: 0,
        requests: 1,
    });
    // Both hashes came from the bytes as they arrived: the stored file was not read again.
    expect(reads).not.toHaveBeenCalled();
    expect(md5(await o.blob.downloadToBuffer())).toBe(md5(file));
    const properties = await o.blob.getProperties();
    expect(Buffer.from(properties.contentMD5!).toString('hex')).toBe(md5(file));
    expect(properties.metadata).toEqual({ filetransferid: String(n), sha256: sha256(file) });
    const blocks = (await o.blob.getBlockList('committed')).committedBlocks!;
    expect(blocks.map((b) => [b.name, b.size])).toEqual([
        [blockId(0), CHUNK],
        [blockId(1), CHUNK],
        [blockId(2), CHUNK],
        [blockId(3), 100],
    ]);
});

test('continues after breaks from the bytes it has received, committed or not', async () => {
    const file = randomBytes(5 * CHUNK + 7);
    const s = server(file, { breakAfter: [CHUNK + 5000, 30_000, 2 * CHUNK] });
    const { options: o, logs } = options(file, s.open);
    const result = await downloadResumable(o);
    expect(result.md5).toBe(md5(file));
    // Each request starts where the bytes received so far end (bytes lost in flight are asked for again).
    expect(s.opened).toHaveLength(4);
    expect(s.opened[1]).toBeGreaterThan(CHUNK);
    expect(s.opened[2]).toBeGreaterThan(s.opened[1]);
    expect(s.opened[3]).toBeGreaterThan(s.opened[2] + CHUNK);
    expect(s.served()).toBeLessThanOrEqual(file.length + 3 * 10_000);
    expect(logs.filter((l) => l.message.startsWith('step=download-retry'))).toHaveLength(3);
    expect(md5(await o.blob.downloadToBuffer())).toBe(md5(file));
});

test('a later call resumes from the committed blocks, seeding the hash from them', async () => {
    const file = randomBytes(4 * CHUNK + 3);
    const first = server(file, { breakAfter: [2 * CHUNK + 999] });
    const { options: o } = options(file, first.open, { maxAttemptsWithoutProgress: 0 });
    await expect(downloadResumable(o)).rejects.toBeInstanceOf(DownloadStalledError);
    expect((await o.blob.getProperties()).contentLength).toBe(2 * CHUNK);

    const second = server(file);
    const { logs } = options(file, second.open);
    const result = await downloadResumable({
        ...o,
        open: second.open,
        maxAttemptsWithoutProgress: 5,
        logger: invocationContext('x').context,
    });
    expect(result).toMatchObject({ md5: md5(file), resumedFrom: 2 * CHUNK, downloadedBytes: 2 * CHUNK + 3 });
    expect(second.opened).toEqual([2 * CHUNK]);
    expect(first.served() + second.served()).toBeLessThanOrEqual(file.length + CHUNK);
    expect(md5(await o.blob.downloadToBuffer())).toBe(md5(file));
    expect(logs).toEqual([]);
});

test('a complete blob with the right MD5 is not downloaded again', async () => {
    const file = randomBytes(CHUNK + 1);
    const { options: o } = options(file, server(file).open);
    await downloadResumable(o);
    const again = server(file);
    const result = await downloadResumable({ ...o, open: again.open });
    expect(result).toMatchObject({ alreadyComplete: true, downloadedBytes: 0, md5: md5(file) });
    expect(again.opened).toEqual([]);
});

test('a blob that is not in this scheme is overwritten from the start', async () => {
    const file = randomBytes(2 * CHUNK);
    const { options: o, logs } = options(file, server(file).open);
    await o.blob.upload('something else entirely', 23);
    const result = await downloadResumable(o);
    expect(result.resumedFrom).toBe(0);
    expect(md5(await o.blob.downloadToBuffer())).toBe(md5(file));
    expect(logs.some((l) => l.message.startsWith('step=download-restart'))).toBe(true);
});

test('skips what is stored when the server ignores Range', async () => {
    const file = randomBytes(3 * CHUNK);
    const s = server(file, { breakAfter: [CHUNK + 10], ignoreRange: true });
    const { options: o } = options(file, s.open);
    const result = await downloadResumable(o);
    expect(result.md5).toBe(md5(file));
    expect(md5(await o.blob.downloadToBuffer())).toBe(md5(file));
});

test('refuses another range than asked for, bytes beyond the size, and a wrong MD5', async () => {
    const file = randomBytes(2 * CHUNK);
    const wrong = server(file, { breakAfter: [100], wrongRange: 1 });
    await expect(downloadResumable(options(file, wrong.open).options)).rejects.toBeInstanceOf(DownloadMismatchError);

    const long = server(file, { extra: 1 });
    await expect(downloadResumable(options(file, long.open).options)).rejects.toBeInstanceOf(DownloadMismatchError);

    const { options: o } = options(file, server(file).open, { expectedMd5: Buffer.alloc(16) });
    await expect(downloadResumable(o)).rejects.toBeInstanceOf(ChecksumMismatchError);
    expect(await o.blob.exists()).toBe(false);
});

test('gives up after breaks without progress', async () => {
    const file = randomBytes(2 * CHUNK);
    const s = server(file, { breakAfter: [CHUNK, 0, 0, 0, 0] });
    const { options: o } = options(file, s.open, { maxAttemptsWithoutProgress: 3 });
    await expect(downloadResumable(o)).rejects.toThrow(
        /stopped making progress at 65536 of 131072 bytes \(4 breaks in a row\)/,
    );
    expect(s.opened).toEqual([0, CHUNK, CHUNK, CHUNK]);
    expect((await o.blob.getProperties()).contentLength).toBe(CHUNK);
});

test('two writers of the same blob: one finishes, the other stops with ConcurrentDownloadError', async () => {
    const file = randomBytes(6 * CHUNK);
    const { options: a } = options(file, server(file).open);
    // b reads the blob's state (nothing), then a commits before b does.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = server(file);
    const b = downloadResumable({
        ...a,
        open: async (offset) => {
            await gate;
            return slow.open(offset);
        },
    });
    await downloadResumable(a);
    release();
    await expect(b).rejects.toBeInstanceOf(ConcurrentDownloadError);
    expect(md5(await a.blob.downloadToBuffer())).toBe(md5(file));
    expect(Buffer.from((await a.blob.getProperties()).contentMD5!).toString('hex')).toBe(md5(file));
});

test('an empty file is fetched once and stored empty', async () => {
    const file = Buffer.alloc(0);
    const s = server(file);
    const { options: o } = options(file, s.open);
    const result = await downloadResumable(o);
    expect(result).toMatchObject({ bytes: 0, md5: md5(file), requests: 1 });
    expect(s.opened).toEqual([0]);
    expect((await o.blob.getProperties()).contentLength).toBe(0);
});
