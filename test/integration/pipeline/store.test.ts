import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import type { DataElement } from '../../../shared/altinn/apps';
import { ByteCountError, InstanceStore, parseInstanceSource, type InstanceRef } from '../../../shared/instances';
import { startAzurite, type AzuriteInstance } from '../../support/azurite';

/*
 * The instance store against Azurite: uploadStream commits only a body of exactly the element's
 * size; a short, long or failing stream leaves no blob, or the previous version untouched.
 */

jest.setTimeout(30_000);

let azurite: AzuriteInstance;
let container: ContainerClient;
let store: InstanceStore;
let ref: InstanceRef;

beforeAll(async () => {
    azurite = await startAzurite();
    container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('inbound');
    // Small blocks so that a failing stream has already staged blocks when it fails.
    store = new InstanceStore(container, { bufferSize: 64 * 1024, maxConcurrency: 2 });
    await store.ensureContainer();
});

afterAll(() => azurite?.stop());

beforeEach(() => {
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

test('a body of exactly the size is committed with its headers and metadata', async () => {
    const e = element(300_000);
    const data = bytes(300_000, 7);
    await expect(store.storeData(ref, e, source(data))).resolves.toBe(300_000);
    expect(
        createHash('sha256')
            .update((await content(dataName(e.id)))!)
            .digest('hex'),
    ).toBe(createHash('sha256').update(data).digest('hex'));
    const props = await container.getBlobClient(dataName(e.id)).getProperties();
    expect(props).toMatchObject({
        contentType: 'application/pdf',
        contentDisposition: 'attachment; filename="a.pdf"',
        metadata: { datatype: 'attachment', filename: 'a.pdf' },
    });
});

test('a zero-byte element becomes an empty blob; one without a filename gets no Content-Disposition', async () => {
    const e = element(0, { filename: null, contentType: null });
    await expect(store.storeData(ref, e, Readable.from([]))).resolves.toBe(0);
    const props = await container.getBlobClient(dataName(e.id)).getProperties();
    expect(props.contentLength).toBe(0);
    expect(props.contentType).toBe('application/octet-stream');
    expect(props.contentDisposition).toBeUndefined();
    expect(props.metadata).toEqual({ datatype: 'attachment' });
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
    await store.writeInstance(ref, text, {
        lastchanged: encodeURIComponent('2026-01-01T00:00:00Z'),
        eventid: 'e1',
        storedat: '2026-01-02T00:00:00.000Z',
        elements: '0',
        bytes: '0',
    });
    const name = `ttd/store-app/${ref.instanceGuid}/instance.json`;
    expect((await content(name))!.equals(Buffer.from(text, 'utf8'))).toBe(true);
    const stored = await store.readInstance(ref);
    expect(stored?.text).toBe(text);
    expect(stored?.metadata).toMatchObject({ eventid: 'e1', elements: '0' });
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
