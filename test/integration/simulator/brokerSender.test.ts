import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { type Simulator } from '../../../dev/simulator/simulator';
import { type CloudEvent } from '../../../dev/simulator/types';
import { bearer, startTestSimulator, waitUntil } from '../../support/simulator';

/*
 * Contract: Altinn 3 Broker, sender side (altinn-broker FileTransferController.InitializeFileTransfer
 * and UploadStreamed, InitializeFileTransferHandler, UploadFileHandler, TusUploadValidationService,
 * CompleteFileUploadHandler, MalwareScanResultHandler, FileTransferPublishService,
 * ConfirmDownloadHandler, PurgeFileTransferHandler), and the events the sender gets.
 */

jest.setTimeout(30_000);

const RESOURCE = 'aos-send-test';
const ME = '405003309';
const A = '910753614';
const B = '991825827';

let sim: Simulator;
let writer: string;
let base: string;

beforeAll(async () => {
    sim = await startTestSimulator({ orgNumber: ME, brokerResources: [RESOURCE] });
    writer = await sim.control.issueAltinnToken({ scopes: ['altinn:broker.write'] });
    base = `${sim.platformUrl}/broker/api/v1/filetransfer`;
});

afterAll(() => sim.stop());

beforeEach(async () => {
    await sim.control.reset();
    await sim.control.holdBrokerScans(false);
});

const md5 = (data: Buffer | string) => createHash('md5').update(data).digest('hex');

function initializeBody(extra: Record<string, unknown> = {}) {
    return {
        fileName: 'vedtak.pdf',
        resourceId: RESOURCE,
        sendersFileTransferReference: 'sak-2026-17',
        sender: `0192:${ME}`,
        recipients: [`0192:${A}`, `urn:altinn:organization:identifier-no:${B}`],
        propertyList: { saksnummer: '2026/17' },
        ...extra,
    };
}

async function initialize(body: unknown, token = writer) {
    const response = await fetch(base, {
        method: 'POST',
        headers: { ...bearer(token), 'content-type': 'application/json' },
        body: JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json().catch(() => undefined)) as Record<string, unknown> };
}

async function upload(id: string, data: Buffer | Readable, headers: Record<string, string> = {}) {
    const response = await request(`${base}/${id}/upload`, {
        method: 'POST',
        headers: {
            ...bearer(writer),
            'content-type': 'application/octet-stream',
            ...(Buffer.isBuffer(data) ? { 'content-length': String(data.length) } : {}),
            ...headers,
        },
        body: data,
    });
    const text = await response.body.text();
    return { status: response.statusCode, json: (text ? JSON.parse(text) : undefined) as Record<string, unknown> };
}

async function overview(id: string) {
    const response = await fetch(`${base}/${id}`, { headers: bearer(writer) });
    expect(response.status).toBe(200);
    return (await response.json()) as Record<string, unknown> & { recipients: Record<string, unknown>[] };
}

async function eventsOf(id: string): Promise<{ type: string; role: string; to: string }[]> {
    return (await sim.control.listEvents())
        .filter((event: CloudEvent) => event.resourceinstance === id)
        .map((event) => ({
            type: event.type.replace('no.altinn.broker.', ''),
            role: (event.data as { Role: string }).Role,
            to: String(event.subject).replace('urn:altinn:organization:identifier-no:', ''),
        }));
}

async function published(id: string) {
    return waitUntil(
        async () => ((await overview(id)).fileTransferStatus === 'Published' ? true : undefined),
        5_000,
        'published',
    );
}

describe('POST /broker/api/v1/filetransfer (initialize)', () => {
    it('answers the id, records Initialized for the transfer and each recipient, and tells the sender', async () => {
        const { status, json } = await initialize(initializeBody({ checksum: md5('x') }));
        expect(status).toBe(200);
        const id = json.fileTransferId as string;
        expect(id).toMatch(/^[0-9a-f-]{36}$/);
        const o = await overview(id);
        expect(o).toMatchObject({
            fileTransferStatus: 'Initialized',
            fileTransferStatusText: 'Ready for upload',
            fileTransferSize: 0,
            published: null,
            useVirusScan: true,
            checksum: md5('x'),
            sender: `0192:${ME}`,
            sendersFileTransferReference: 'sak-2026-17',
            propertyList: { saksnummer: '2026/17' },
        });
        // Both recipient forms are stored as 0192:{orgnr}.
        expect(o.recipients.map((r) => [r.recipient, r.currentRecipientFileTransferStatusCode])).toEqual([
            [`0192:${A}`, 'Initialized'],
            [`0192:${B}`, 'Initialized'],
        ]);
        expect(await eventsOf(id)).toEqual([{ type: 'filetransferinitialized', role: 'Sender', to: ME }]);
    });

    it.each([
        [{ sendersFileTransferReference: undefined }, 'SendersFileTransferReference'],
        [{ sendersFileTransferReference: '' }, 'SendersFileTransferReference'],
        [{ checksum: md5('x').toUpperCase() }, 'Checksum'],
        [{ checksum: 'abc' }, 'Checksum'],
        [{ recipients: [] }, 'Recipients'],
        [{ recipients: [A] }, 'Recipients'],
        [{ sender: ME }, 'Sender'],
        [{ fileName: '' }, 'FileName'],
        [{ propertyList: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v'])) }, 'PropertyList'],
        [{ resourceId: 'a:b' }, 'ResourceId'],
    ])('refuses %j with a validation problem on %s', async (change, field) => {
        const { status, json } = await initialize(initializeBody(change));
        expect(status).toBe(400);
        expect(Object.keys(json.errors as object)).toEqual([field]);
    });

    it('accepts an explicit null reference, and the resource as a URN', async () => {
        const { status } = await initialize(
            initializeBody({ sendersFileTransferReference: null, resourceId: `urn:altinn:resource:${RESOURCE}` }),
        );
        expect(status).toBe(200);
    });

    it('needs altinn:broker.write (403), and refuses another sender or an unknown resource (401 NoAccessToResource)', async () => {
        const reader = await sim.control.issueAltinnToken({ scopes: ['altinn:broker.read'] });
        expect((await initialize(initializeBody(), reader)).status).toBe(403);
        const other = await initialize(initializeBody({ sender: `0192:${A}` }));
        expect(other).toMatchObject({ status: 401, json: { code: 'BRO-00006' } });
        expect((await initialize(initializeBody({ resourceId: 'never-registered' }))).status).toBe(401);
    });
});

describe('POST /broker/api/v1/filetransfer/{id}/upload', () => {
    it('stores the stream, is UploadProcessing while scanned, then Published to the sender and every recipient', async () => {
        await sim.control.holdBrokerScans(true);
        const data = Buffer.from('vedtak i saken\n'.repeat(1000));
        const id = (await initialize(initializeBody({ checksum: md5(data) }))).json.fileTransferId as string;
        expect(await upload(id, data)).toEqual({ status: 200, json: { fileTransferId: id } });
        expect(await overview(id)).toMatchObject({
            fileTransferStatus: 'UploadProcessing',
            fileTransferSize: data.length,
        });

        await sim.control.completeBrokerScan(id, 'Clean');
        const o = await overview(id);
        expect(o).toMatchObject({ fileTransferStatus: 'Published', checksum: md5(data) });
        expect(o.published).toEqual(o.fileTransferStatusChanged);
        expect(await eventsOf(id)).toEqual([
            { type: 'filetransferinitialized', role: 'Sender', to: ME },
            { type: 'uploadprocessing', role: 'Sender', to: ME },
            { type: 'published', role: 'Sender', to: ME },
            { type: 'published', role: 'Recipient', to: A },
            { type: 'published', role: 'Recipient', to: B },
        ]);
        expect(await sim.control.contentDigest(id)).toMatchObject({ size: data.length, md5: md5(data) });
    });

    it('publishes at once without virus scan, computing the checksum the sender did not give', async () => {
        const data = Buffer.from('uten virusskanning');
        const id = (await initialize(initializeBody({ disableVirusScan: true }))).json.fileTransferId as string;
        expect((await upload(id, data)).status).toBe(200);
        expect(await overview(id)).toMatchObject({
            fileTransferStatus: 'Published',
            useVirusScan: false,
            checksum: md5(data),
        });
    });

    it('publishes after the scan delay when scans are not held', async () => {
        const id = (await initialize(initializeBody())).json.fileTransferId as string;
        expect((await upload(id, Buffer.from('x'))).status).toBe(200);
        await published(id);
    });

    it('fails a checksum mismatch: 400 BRO-00009, Failed "Checksum mismatch", no uploadfailed event; a second upload is 409', async () => {
        const id = (await initialize(initializeBody({ checksum: md5('something else') }))).json
            .fileTransferId as string;
        const first = await upload(id, Buffer.from('the real bytes'));
        expect(first).toMatchObject({ status: 400, json: { code: 'BRO-00009' } });
        expect(await overview(id)).toMatchObject({
            fileTransferStatus: 'Failed',
            fileTransferStatusText: 'Checksum mismatch',
        });
        expect((await eventsOf(id)).map((e) => e.type)).toEqual(['filetransferinitialized']);
        const again = await upload(id, Buffer.from('the real bytes'));
        expect(again).toMatchObject({ status: 409, json: { code: 'BRO-00004' } });
    });

    it('fails an upload whose stream breaks: Failed "Error occurred while uploading fileTransfer" and uploadfailed', async () => {
        const id = (await initialize(initializeBody())).json.fileTransferId as string;
        const breaking = new Readable({ read() {} });
        breaking.push(Buffer.alloc(64 * 1024, 1));
        const sent = upload(id, breaking, { 'content-length': String(1024 * 1024) }).catch((error: unknown) => error);
        await waitUntil(
            async () => ((await overview(id)).fileTransferStatus === 'UploadStarted' ? true : undefined),
            5_000,
            'upload started',
        );
        breaking.destroy(new Error('the sender went away'));
        await sent;
        await waitUntil(
            async () => ((await overview(id)).fileTransferStatus === 'Failed' ? true : undefined),
            5_000,
            'failed',
        );
        expect(await overview(id)).toMatchObject({
            fileTransferStatusText: 'Error occurred while uploading fileTransfer',
        });
        expect((await eventsOf(id)).map((e) => `${e.type}:${e.role}`)).toEqual([
            'filetransferinitialized:Sender',
            'uploadfailed:Sender',
        ]);
    });

    it('refuses a declared size above the resource maximum before it starts: 400 BRO-00016, still Initialized', async () => {
        const small = await startTestSimulator({
            orgNumber: ME,
            brokerResources: [RESOURCE],
            brokerMaxFileTransferSize: 10,
        });
        try {
            const token = await small.control.issueAltinnToken({ scopes: ['altinn:broker.write'] });
            const response = await fetch(`${small.platformUrl}/broker/api/v1/filetransfer`, {
                method: 'POST',
                headers: { ...bearer(token), 'content-type': 'application/json' },
                body: JSON.stringify(initializeBody()),
            });
            const { fileTransferId } = (await response.json()) as { fileTransferId: string };
            const refused = await fetch(`${small.platformUrl}/broker/api/v1/filetransfer/${fileTransferId}/upload`, {
                method: 'POST',
                headers: { ...bearer(token), 'content-type': 'application/octet-stream' },
                body: Buffer.alloc(11),
            });
            expect(refused.status).toBe(400);
            expect(await refused.json()).toMatchObject({ code: 'BRO-00016', detail: 'File size exceeds maximum' });
            const [transfer] = await small.control.listFileTransfers();
            expect(transfer.fileTransferStatus).toBe('Initialized');
        } finally {
            await small.stop();
        }
    });

    it('fails an infected upload: Failed, uploadfailed, and never-confirmed to each recipient and the sender, not Purged', async () => {
        await sim.control.holdBrokerScans(true);
        const id = (await initialize(initializeBody())).json.fileTransferId as string;
        await upload(id, Buffer.from('X5O!P%@AP'));
        await sim.control.completeBrokerScan(id, 'Infected');
        expect(await overview(id)).toMatchObject({ fileTransferStatus: 'Failed' });
        expect(String((await overview(id)).fileTransferStatusText)).toMatch(/^Malware scan failed: /);
        expect((await eventsOf(id)).slice(2)).toEqual([
            { type: 'uploadfailed', role: 'Sender', to: ME },
            { type: 'fileneverconfirmeddownloaded', role: 'Recipient', to: A },
            { type: 'fileneverconfirmeddownloaded', role: 'Recipient', to: B },
            { type: 'fileneverconfirmeddownloaded', role: 'Sender', to: ME },
        ]);
    });
});

describe('after publishing', () => {
    async function publishedTransfer(): Promise<string> {
        const id = (await initialize(initializeBody({ disableVirusScan: true }))).json.fileTransferId as string;
        await upload(id, Buffer.from('fil'));
        return id;
    }

    it('tells the sender of each confirmation with the sender’s subject, and of the last with allconfirmeddownloaded', async () => {
        const id = await publishedTransfer();
        await sim.control.recipientConfirms(id, A);
        expect((await overview(id)).fileTransferStatus).toBe('Published');
        const o = await sim.control.recipientConfirms(id, B);
        expect(o.fileTransferStatus).toBe('AllConfirmedDownloaded');
        expect((await eventsOf(id)).slice(4)).toEqual([
            { type: 'downloadconfirmed', role: 'Recipient', to: A },
            { type: 'downloadconfirmed', role: 'Sender', to: ME },
            { type: 'downloadconfirmed', role: 'Recipient', to: B },
            { type: 'downloadconfirmed', role: 'Sender', to: ME },
            { type: 'allconfirmeddownloaded', role: 'Sender', to: ME },
        ]);
    });

    it('expires: Purged, filepurged to the sender, never-confirmed to each recipient that had not confirmed and to the sender', async () => {
        const id = await publishedTransfer();
        await sim.control.recipientConfirms(id, A);
        const { overview: o } = await sim.control.expireFileTransfer(id);
        expect(o.fileTransferStatus).toBe('Purged');
        expect((await eventsOf(id)).slice(6)).toEqual([
            { type: 'filepurged', role: 'Sender', to: ME },
            { type: 'fileneverconfirmeddownloaded', role: 'Recipient', to: B },
            { type: 'fileneverconfirmeddownloaded', role: 'Sender', to: ME },
        ]);
        const download = await fetch(`${base}/${id}/download`, {
            headers: bearer(await sim.control.issueAltinnToken({ orgNumber: B, scopes: ['altinn:broker.read'] })),
        });
        expect(download.status).toBe(403);
    });
});
