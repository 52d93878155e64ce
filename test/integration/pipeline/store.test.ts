import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import type { DataElement } from '../../../shared/altinn/apps';
import { ByteCountError, InstanceStore, parseInstanceSource, type InstanceRef } from '../../../shared/instances';
import { connectionStringFor, startAzurite, type AzuriteInstance } from '../../support/azurite';
import { startStorageRecorder, type StorageRecorder } from '../../support/storageRecorder';

/*
 * The instance store against Azurite: it commits only a body of exactly the element's size, with
 * the SHA-256 of its bytes as metadata; a short, long or failing stream leaves no blob, or the
 * previous version untouched. The store talks to Azurite through a recording proxy, to count the
 * requests an element costs.
 */

jest.setTimeout(30_000);

const bufferSize = 64 * 1024;
let azurite: AzuriteInstance;
let container: ContainerClient;
let store: InstanceStore;
let ref: InstanceRef;
let recorder: StorageRecorder;
/** "METHOD comp" of every request sent since the test began, e.g. "PUT block", "PUT blocklist", "PUT" (Put Blob). */
const calls = () => recorder.requests.map((r) => r.call);

beforeAll(async () => {
    azurite = await startAzurite();
    recorder = await startStorageRecorder(azurite.blobPort);
    const service = BlobServiceClient.fromConnectionString(
        connectionStringFor({ ...azurite, blobPort: recorder.port }),
    );
    container = service.getContainerClient('inbound');
    // Small blocks so that a failing stream has already staged blocks when it fails.
    store = new InstanceStore(
        { inbound: container, quarantine: service.getContainerClient('quarantine') },
        { bufferSize, maxConcurrency: 2 },
    );
    await store.ensureContainer();
});

afterAll(async () => {
    await recorder?.stop();
    await azurite?.stop();
});

beforeEach(() => {
    recorder.requests.length = 0;
    recorder.concurrency.max = 0;
    recorder.delayMs = 0;
    recorder.refuse = undefined;
    ref = parseInstanceSource(
        `https://ttd.apps.example/ttd/store-app/instances/501/${randomUUID()}`,
        'https://ttd.apps.example',
    );
});

function element(size: number, extra: Partial<DataElement> = {}): DataElement {
    return {
        id: randomUUID(),
        dataType: 'attachment',
        contentType: 'application/pdf',
        filename: 'a.pdf',
        size,
        ...extra,
    };
}

function bytes(size: number, fill: number): Buffer {
    return Buffer.alloc(size, fill);
}

/** Chunks of `chunk` bytes, then optionally an error after `failAfter` bytes. */
function source(data: Buffer, chunk = 16 * 1024, failAfter?: number): Readable {
    let offset = 0;
    return new Readable({
        read() {
            if (failAfter !== undefined && offset >= failAfter) {
                this.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
                return;
            }
            if (offset >= data.length) {
                this.push(null);
                return;
            }
            this.push(data.subarray(offset, offset + chunk));
            offset += chunk;
        },
    });
}

async function content(name: string): Promise<Buffer | undefined> {
    const blob = container.getBlobClient(name);
    return (await blob.exists()) ? blob.downloadToBuffer() : undefined;
}

const dataName = (id: string) => `ttd/store-app/${ref.instanceGuid}/data/${id}`;

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

test('a body of exactly the size is staged in blocks and committed with its headers, metadata and SHA-256', async () => {
    const e = element(300_000);
    const data = bytes(300_000, 7);
    const stored = await store.storeData(ref, e, source(data));
    expect(stored).toEqual({ bytes: 300_000, sha256: sha256(data), written: { kind: 'blocks', blocks: 5 } });
    expect(sha256((await content(dataName(e.id)))!)).toBe(sha256(data));
    const props = await container.getBlobClient(dataName(e.id)).getProperties();
    expect(props).toMatchObject({
        contentType: 'application/pdf',
        contentDisposition: 'attachment; filename="a.pdf"',
        metadata: { datatype: 'attachment', filename: 'a.pdf', sha256: sha256(data) },
    });
    // Five blocks of at most 64 KiB, then one commit: nothing else was sent for the upload.
    expect(calls().filter((r) => r !== 'HEAD' && r !== 'GET')).toEqual([
        ...Array<string>(5).fill('PUT block'),
        'PUT blocklist',
    ]);
});

test.each([
    ['200 bytes', 200],
    ['exactly one buffer', bufferSize],
])('an element of %s is stored with one Put Blob, hashed and counted on the way', async (_what, size) => {
    const e = element(size);
    const data = Buffer.from(Array.from({ length: size }, (_, i) => i % 251));
    const stored = await store.storeData(ref, e, source(data, 1000));
    expect(stored).toEqual({ bytes: size, sha256: sha256(data), written: { kind: 'put' } });
    expect(calls()).toEqual(['PUT']);
    expect((await content(dataName(e.id)))!.equals(data)).toBe(true);
    const props = await container.getBlobClient(dataName(e.id)).getProperties();
    expect(props).toMatchObject({ contentType: 'application/pdf', metadata: { sha256: sha256(data) } });
});

test('blocks are staged in parallel, never more than maxConcurrency at once', async () => {
    recorder.delayMs = 100;
    const e = element(10 * bufferSize);
    const data = bytes(10 * bufferSize, 6);
    await expect(store.storeData(ref, e, source(data))).resolves.toMatchObject({
        written: { kind: 'blocks', blocks: 10 },
    });
    expect(recorder.concurrency.max).toBe(2);
    expect(sha256((await content(dataName(e.id)))!)).toBe(sha256(data));
});

test('a block storage refuses fails the write with that error, and nothing is committed', async () => {
    recorder.delayMs = 20;
    let blocks = 0;
    recorder.refuse = (call) => (call === 'PUT block' && ++blocks === 3 ? 400 : undefined);
    const e = element(10 * bufferSize);
    const failed = store.storeData(ref, e, source(bytes(10 * bufferSize, 8)));
    await expect(failed).rejects.toMatchObject({ name: 'RestError', statusCode: 400 });
    expect(calls()).not.toContain('PUT blocklist');
    expect(calls().filter((c) => c === 'PUT block').length).toBeLessThan(10);
    expect(await content(dataName(e.id))).toBeUndefined();
});

test('one byte more than a buffer is two blocks and a commit', async () => {
    const e = element(bufferSize + 1);
    const data = bytes(bufferSize + 1, 5);
    await expect(store.storeData(ref, e, source(data))).resolves.toMatchObject({
        written: { kind: 'blocks', blocks: 2 },
    });
    expect(calls()).toEqual(['PUT block', 'PUT block', 'PUT blocklist']);
    expect(sha256((await content(dataName(e.id)))!)).toBe(sha256(data));
});

test('a short or long small body is never put', async () => {
    for (const actual of [150, 250]) {
        const e = element(200);
        await expect(store.storeData(ref, e, source(bytes(actual, 2), 50))).rejects.toBeInstanceOf(ByteCountError);
        expect(await content(dataName(e.id))).toBeUndefined();
    }
    expect(calls().filter((r) => r.startsWith('PUT'))).toEqual([]);
});

test('a zero-byte element becomes an empty blob; one without a filename gets no Content-Disposition', async () => {
    const e = element(0, { filename: null, contentType: null });
    await expect(store.storeData(ref, e, Readable.from([]))).resolves.toMatchObject({ bytes: 0 });
    const props = await container.getBlobClient(dataName(e.id)).getProperties();
    expect(props.contentLength).toBe(0);
    expect(props.contentType).toBe('application/octet-stream');
    expect(props.contentDisposition).toBeUndefined();
    expect(props.metadata).toEqual({ datatype: 'attachment', sha256: sha256(Buffer.alloc(0)) });
});

test('an element for quarantine lands only in the quarantine container, at the same path', async () => {
    const e = element(1000);
    const data = bytes(1000, 4);
    await store.storeData(ref, e, source(data), undefined, 'quarantine');
    expect(await content(dataName(e.id))).toBeUndefined();
    const quarantined = store.containers.quarantine.getBlobClient(dataName(e.id));
    expect((await quarantined.downloadToBuffer()).equals(data)).toBe(true);
    expect((await store.dataInfo(ref, e.id, 'quarantine'))?.metadata.sha256).toBe(sha256(data));
});

describe.each([
    ['a short body', 200_000, 150_000, undefined, ByteCountError],
    ['a long body', 200_000, 250_000, undefined, ByteCountError],
    ['a body that breaks off', 200_000, 200_000, 130_000, Error],
])('%s', (_what, size, actual, failAfter, errorType) => {
    test('leaves no blob', async () => {
        const e = element(size);
        await expect(store.storeData(ref, e, source(bytes(actual, 1), 16 * 1024, failAfter))).rejects.toBeInstanceOf(
            errorType,
        );
        expect(await content(dataName(e.id))).toBeUndefined();
        // Blocks may be staged, but nothing is committed: the blob is not listed.
        const names: string[] = [];
        for await (const blob of container.listBlobsFlat({ prefix: dataName(e.id) })) names.push(blob.name);
        expect(names).toEqual([]);
    });

    test('leaves the previous version untouched', async () => {
        const e = element(size);
        const previous = bytes(size, 9);
        await store.storeData(ref, e, source(previous));
        await expect(store.storeData(ref, e, source(bytes(actual, 1), 16 * 1024, failAfter))).rejects.toBeInstanceOf(
            errorType,
        );
        expect((await content(dataName(e.id)))!.equals(previous)).toBe(true);
    });
});

test('an abort stops the upload without committing', async () => {
    const e = element(1_000_000);
    const controller = new AbortController();
    let sent = 0;
    const slow = new Readable({
        read() {
            sent += 64 * 1024;
            if (sent > 256 * 1024) {
                controller.abort(new Error('another element failed'));
                return;
            }
            setTimeout(() => this.push(bytes(64 * 1024, 3)), 5);
        },
    });
    await expect(store.storeData(ref, e, slow, controller.signal)).rejects.toThrow();
    expect(await content(dataName(e.id))).toBeUndefined();
});

test('instance.json is written as given, as application/json, with its metadata', async () => {
    const text = '{"id":"501/x",  "note":"æøå ✓"}';
    const written = await store.writeInstance(
        ref,
        text,
        { eventid: 'e1', storedat: '2026-01-02T00:00:00.000Z', elements: '0', bytes: '0' },
        { version: 'v1', lastChanged: '2026-01-01T00:00:00Z' },
    );
    expect(written).toEqual({ outcome: 'written', bytes: Buffer.byteLength(text) });
    const name = `ttd/store-app/${ref.instanceGuid}/instance.json`;
    expect((await content(name))!.equals(Buffer.from(text, 'utf8'))).toBe(true);
    const stored = await store.readInstance(ref);
    expect(stored?.text).toBe(text);
    expect(stored?.metadata).toMatchObject({
        eventid: 'e1',
        elements: '0',
        version: 'v1',
        lastchanged: encodeURIComponent('2026-01-01T00:00:00Z'),
    });
    expect((await container.getBlobClient(name).getProperties()).contentType).toBe('application/json');
    expect(
        await store.readInstance(
            parseInstanceSource(
                `https://ttd.apps.example/ttd/store-app/instances/501/${randomUUID()}`,
                'https://ttd.apps.example',
            ),
        ),
    ).toBeUndefined();
});

test('instance.json and manifest.json never move backwards: an older lastChanged leaves the newer one, one request when none is there', async () => {
    const name = `ttd/store-app/${ref.instanceGuid}/instance.json`;
    const meta = { eventid: 'e', storedat: '2026-01-02T00:00:00.000Z', elements: '0', bytes: '0' };
    // Seven fraction digits, as Altinn writes them: the digits beyond the millisecond still order.
    const newer = '2026-01-01T10:00:00.1234568Z';
    const older = '2026-01-01T10:00:00.1234567Z';
    expect(await store.writeInstance(ref, '{"v":"new"}', meta, { version: 'v2', lastChanged: newer })).toEqual({
        outcome: 'written',
        bytes: 11,
    });
    expect(calls()).toEqual(['PUT']);
    expect(await store.writeInstance(ref, '{"v":"old"}', meta, { version: 'v1', lastChanged: older })).toEqual({
        outcome: 'newer',
        bytes: 11,
        storedVersion: 'v2',
        storedEventId: 'e',
    });
    expect((await content(name))!.toString()).toBe('{"v":"new"}');
    expect((await store.writeInstance(ref, '{"v":"same"}', meta, { version: 'v2', lastChanged: newer })).outcome).toBe(
        'same',
    );
    expect((await content(name))!.toString()).toBe('{"v":"new"}');

    const manifest = {
        instanceId: ref.instanceId,
        org: 'ttd',
        app: 'store-app',
        storedAt: '2026-01-02T00:00:00.000Z',
        lastChanged: older,
        version: 'v1',
        elements: [],
    };
    expect((await store.writeManifest(ref, manifest, { version: 'v1', lastChanged: older })).outcome).toBe('written');
    const later = '2026-01-01T10:00:01Z';
    recorder.requests.length = 0;
    expect(
        (await store.writeManifest(ref, { ...manifest, version: 'v3' }, { version: 'v3', lastChanged: later })).outcome,
    ).toBe('written');
    // The create that found a blob, a look at it, and the replacement of the very blob looked at.
    expect(calls()).toEqual(['PUT', 'HEAD', 'PUT']);
    const stored = JSON.parse((await content(`ttd/store-app/${ref.instanceGuid}/manifest.json`))!.toString()) as {
        version: string;
    };
    expect(stored.version).toBe('v3');
});

test('a data blob is created only where none is, and replaced only as the blob that was looked at', async () => {
    const e = element(100, { lastChanged: '2026-01-01T00:00:00Z' });
    await store.storeData(ref, e, source(bytes(100, 1)), undefined, 'inbound', { ifNoneMatch: '*' });
    const info = await store.dataInfo(ref, e.id);
    expect(info?.metadata.lastchanged).toBe(encodeURIComponent('2026-01-01T00:00:00Z'));
    await expect(
        store.storeData(ref, e, source(bytes(100, 2)), undefined, 'inbound', { ifNoneMatch: '*' }),
    ).rejects.toMatchObject({ statusCode: 409 });
    await expect(
        store.storeData(ref, e, source(bytes(100, 3)), undefined, 'inbound', { ifMatch: '"0x1"' }),
    ).rejects.toMatchObject({ statusCode: 412 });
    expect(await content(dataName(e.id))).toEqual(bytes(100, 1));
    await store.storeData(ref, e, source(bytes(100, 4)), undefined, 'inbound', { ifMatch: info!.etag });
    expect(await content(dataName(e.id))).toEqual(bytes(100, 4));
});
