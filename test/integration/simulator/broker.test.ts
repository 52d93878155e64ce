import { createHash } from 'node:crypto';
import { generatedBytes, generatedDigest } from '../../../dev/simulator/dataGenerator';
import { type Simulator } from '../../../dev/simulator/simulator';
import { type CloudEvent } from '../../../dev/simulator/types';
import {
    bearer,
    clientRegistration,
    maskinportenToken,
    sharedClientCredentials,
    startReceiver,
    startTestSimulator,
    waitUntil,
    type Receiver,
} from '../../support/simulator';

/* Contract: Altinn 3 Broker, recipient side, and its events (altinn-api.md §5). */

// Generous: RSA key generation and real sockets are slow on a loaded machine.
jest.setTimeout(30_000);

const RESOURCE = 'aos-broker-test';
const ME = '405003309';
const SENDER = '991825827';
const NO_ACCESS =
    'You must use a bearer token that represents a system user with access to the resource in the Resource Rights Registry';

let sim: Simulator;
let altinn: string;
let mp: string;
let base: string;

beforeAll(async () => {
    sim = await startTestSimulator({ orgNumber: ME });
    const creds = sharedClientCredentials();
    await sim.control.registerClient(clientRegistration(creds, ['altinn:broker.read', 'altinn:events.subscribe']));
    mp = await maskinportenToken(sim, creds, ['altinn:broker.read']);
    altinn = await sim.control.issueAltinnToken({ scopes: ['altinn:broker.read'] });
    base = `${sim.platformUrl}/broker/api/v1/filetransfer`;
});

afterAll(() => sim.stop());

async function transfer(extra: Partial<Parameters<Simulator['control']['createFileTransfer']>[0]> = {}) {
    return sim.control.createFileTransfer({
        resourceId: RESOURCE,
        fileName: 'rapport 2024.zip',
        size: 100_000,
        seed: 'broker-seed',
        recipients: [ME, '0192:999999999'],
        sender: SENDER,
        sendersFileTransferReference: 'ref-1',
        propertyList: { a: 'b' },
        ...extra,
    });
}

describe('GET /broker/api/v1/filetransfer', () => {
    it('lists the caller’s transfers by resource and statuses, with an Altinn or a Maskinporten token', async () => {
        const a = await transfer();
        const b = await transfer();
        const notMine = await transfer({ recipients: ['888888888'] });
        for (const token of [altinn, mp]) {
            const response = await fetch(
                `${base}?resourceId=${RESOURCE}&status=published&recipientStatus=initialized`,
                { headers: bearer(token) },
            );
            expect(response.status).toBe(200);
            const ids = (await response.json()) as string[];
            expect(ids).toEqual(expect.arrayContaining([a.fileTransferId, b.fileTransferId]));
            expect(ids).not.toContain(notMine.fileTransferId);
        }
        // A resource Broker does not know fails CheckUserAccess: 401 NoAccessToResource, not an empty list.
        const other = await fetch(`${base}?resourceId=other-resource`, { headers: bearer(altinn) });
        expect(other.status).toBe(401);
        expect(await other.json()).toMatchObject({ status: 401, code: 'BRO-00006', detail: NO_ACCESS });
        const allConfirmed = await fetch(`${base}?resourceId=${RESOURCE}&status=AllConfirmedDownloaded`, {
            headers: bearer(altinn),
        });
        expect(await allConfirmed.json()).toEqual([]);
    });

    it('returns at most 100, newest first, or oldest first with orderAscending', async () => {
        const fresh = await startTestSimulator({ orgNumber: ME });
        try {
            const ids: string[] = [];
            for (let i = 0; i < 105; i++) {
                ids.push(
                    (
                        await fresh.control.createFileTransfer({
                            resourceId: 'r',
                            fileName: 'f',
                            content: 'x',
                            recipients: [ME],
                            checksum: false,
                            publish: false,
                        })
                    ).fileTransferId,
                );
            }
            const token = await fresh.control.issueAltinnToken({ scopes: ['altinn:broker.read'] });
            const response = await fetch(`${fresh.platformUrl}/broker/api/v1/filetransfer?resourceId=r`, {
                headers: bearer(token),
            });
            expect(await response.json()).toEqual(ids.slice(5).reverse());
            const oldest = await fetch(
                `${fresh.platformUrl}/broker/api/v1/filetransfer?resourceId=r&orderAscending=true`,
                { headers: bearer(token) },
            );
            expect(await oldest.json()).toEqual(ids.slice(0, 100));
        } finally {
            await fresh.stop();
        }
    });

    it('filters on when the transfer entered the status: `from` is exclusive; role picks sender or recipient', async () => {
        const fresh = await startTestSimulator({ orgNumber: ME, brokerResources: ['registered'] });
        try {
            const create = async (recipients: string[], sender = SENDER) =>
                fresh.control.createFileTransfer({
                    resourceId: 'r',
                    fileName: 'f',
                    content: 'x',
                    recipients,
                    sender,
                    checksum: false,
                    publish: false,
                });
            const first = await create([ME]);
            await new Promise((r) => setTimeout(r, 5));
            const second = await create([ME]);
            const mine = await create([SENDER], ME);
            const token = await fresh.control.issueAltinnToken({ scopes: ['altinn:broker.read'] });
            const list = async (query: string) =>
                (await (
                    await fetch(`${fresh.platformUrl}/broker/api/v1/filetransfer?resourceId=r&${query}`, {
                        headers: bearer(token),
                    })
                ).json()) as string[];
            const published = first.overview.published as string;
            expect(await list(`status=Published&from=${encodeURIComponent(published)}`)).toEqual([
                mine.fileTransferId,
                second.fileTransferId,
            ]);
            expect(await list(`status=Published&to=${encodeURIComponent(published)}`)).toEqual([]);
            expect(await list('role=Sender')).toEqual([mine.fileTransferId]);
            expect(await list('role=Recipient&orderAscending=true')).toEqual([
                first.fileTransferId,
                second.fileTransferId,
            ]);
            const bad = await fetch(
                `${fresh.platformUrl}/broker/api/v1/filetransfer?resourceId=r&orderAscending=maybe`,
                {
                    headers: bearer(token),
                },
            );
            expect(bad.status).toBe(400);
            // A resource registered in Broker without transfers yet: an empty list, not a refusal.
            const registered = await fetch(`${fresh.platformUrl}/broker/api/v1/filetransfer?resourceId=registered`, {
                headers: bearer(token),
            });
            expect(await registered.json()).toEqual([]);
        } finally {
            await fresh.stop();
        }
    });

    it('answers 400 without resourceId or with an unknown status, 403 without a broker scope, 401 without a token', async () => {
        expect((await fetch(base, { headers: bearer(altinn) })).status).toBe(400);
        expect((await fetch(`${base}?resourceId=x&status=nope`, { headers: bearer(altinn) })).status).toBe(400);
        const noScope = await sim.control.issueAltinnToken({ scopes: ['altinn:serviceowner/instances.read'] });
        expect((await fetch(`${base}?resourceId=x`, { headers: bearer(noScope) })).status).toBe(403);
        expect((await fetch(`${base}?resourceId=x`)).status).toBe(401);
    });
});

describe('GET /broker/api/v1/filetransfer/{id}', () => {
    it('answers FileTransferOverviewExt with string enums and the MD5 checksum', async () => {
        const created = await transfer();
        const response = await fetch(`${base}/${created.fileTransferId}`, { headers: bearer(mp) });
        expect(response.status).toBe(200);
        expect(await response.json()).toEqual({
            fileTransferId: created.fileTransferId,
            resourceId: RESOURCE,
            fileName: 'rapport 2024.zip',
            sendersFileTransferReference: 'ref-1',
            checksum: await generatedDigest('broker-seed', 100_000, 'md5'),
            useVirusScan: false,
            fileTransferSize: 100_000,
            fileTransferStatus: 'Published',
            fileTransferStatusText: expect.any(String) as string,
            fileTransferStatusChanged: expect.any(String) as string,
            created: expect.any(String) as string,
            expirationTime: expect.any(String) as string,
            sender: `0192:${SENDER}`,
            recipients: [
                expect.objectContaining({
                    recipient: `0192:${ME}`,
                    currentRecipientFileTransferStatusCode: 'Initialized',
                }) as unknown,
                expect.objectContaining({
                    recipient: '0192:999999999',
                    currentRecipientFileTransferStatusCode: 'Initialized',
                }) as unknown,
            ],
            propertyList: { a: 'b' },
            published: expect.any(String) as string,
        });
        const details = await fetch(`${base}/${created.fileTransferId}/details`, { headers: bearer(mp) });
        // fetch() builds its arrays outside Jest's realm, so expect.any(Array) would not recognise them.
        const { fileTransferStatusHistory } = (await details.json()) as { fileTransferStatusHistory: unknown };
        expect(Array.isArray(fileTransferStatusHistory)).toBe(true);
        expect(fileTransferStatusHistory).toContainEqual(expect.objectContaining({ fileTransferStatus: 'Published' }));
    });

    it('answers 404 for an unknown transfer and 401 NoAccessToResource for one the caller is not party to', async () => {
        const response = await fetch(`${base}/00000000-0000-0000-0000-000000000001`, { headers: bearer(altinn) });
        expect(response.status).toBe(404);
        expect(await response.json()).toMatchObject({
            status: 404,
            title: 'Not Found',
            code: 'BRO-00001',
            detail: 'The requested file transfer was not found',
        });
        const foreign = await transfer({ recipients: ['888888888'] });
        const refused = await fetch(`${base}/${foreign.fileTransferId}`, { headers: bearer(altinn) });
        expect(refused.status).toBe(401);
        // An authorization decision, not a token challenge: a body and no WWW-Authenticate.
        expect(refused.headers.get('www-authenticate')).toBeNull();
        expect(await refused.json()).toMatchObject({ status: 401, title: 'Unauthorized', detail: NO_ACCESS });
    });

    it('writes Broker’s own status texts', async () => {
        const { fileTransferId: id } = await transfer();
        const overview = (await (await fetch(`${base}/${id}`, { headers: bearer(altinn) })).json()) as {
            fileTransferStatusText: string;
            recipients: { currentRecipientFileTransferStatusText: string }[];
        };
        expect(overview.fileTransferStatusText).toBe('Ready for download');
        expect(overview.recipients[0].currentRecipientFileTransferStatusText).toBe('Initialized');
        await (await fetch(`${base}/${id}/download`, { headers: bearer(altinn) })).arrayBuffer();
        const after = (await (await fetch(`${base}/${id}`, { headers: bearer(altinn) })).json()) as typeof overview;
        expect(after.recipients[0].currentRecipientFileTransferStatusText).toBe(
            'Recipient has attempted to download fileTransfer',
        );
    });
});

describe('download and confirm', () => {
    it('refuses to confirm before a download, then moves Initialized -> DownloadStarted -> DownloadConfirmed', async () => {
        const created = await transfer();
        const id = created.fileTransferId;
        const status = async () =>
            (
                (await (await fetch(`${base}/${id}`, { headers: bearer(altinn) })).json()) as {
                    recipients: { recipient: string; currentRecipientFileTransferStatusCode: string }[];
                }
            ).recipients.find((r) => r.recipient === `0192:${ME}`)?.currentRecipientFileTransferStatusCode;
        const early = await fetch(`${base}/${id}/confirmdownload`, { method: 'POST', headers: bearer(altinn) });
        expect(early.status).toBe(400);
        expect(await early.json()).toMatchObject({ detail: 'Cannot confirm before the files have been downloaded' });
        expect(await status()).toBe('Initialized');

        const response = await fetch(`${base}/${id}/download`, { headers: bearer(mp) });
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toBe('application/octet-stream');
        expect(response.headers.get('accept-ranges')).toBe('bytes');
        expect(response.headers.get('content-length')).toBe('100000');
        expect(response.headers.get('content-disposition')).toBe(
            `attachment; filename="rapport 2024.zip"; filename*=UTF-8''rapport%202024.zip`,
        );
        const body = Buffer.from(await response.arrayBuffer());
        expect(createHash('md5').update(body).digest('hex')).toBe(created.overview.checksum);
        expect(await status()).toBe('DownloadStarted');

        const confirm = await fetch(`${base}/${id}/confirmdownload`, { method: 'POST', headers: bearer(altinn) });
        expect(confirm.status).toBe(204);
        expect(await status()).toBe('DownloadConfirmed');
        // Another recipient has not confirmed: the transfer is still Published, so a repeat is answered like the first.
        const again = await fetch(`${base}/${id}/confirmdownload`, { method: 'POST', headers: bearer(mp) });
        expect(again.status).toBe(204);
        const listed = async (recipientStatus: string) =>
            (await (
                await fetch(`${base}?resourceId=${RESOURCE}&recipientStatus=${recipientStatus}`, {
                    headers: bearer(altinn),
                })
            ).json()) as string[];
        expect(await listed('DownloadConfirmed')).toContain(id);
        expect(sim.counters().contentBytes[id]).toBe(100_000);

        // A download after the confirmation: the list (latest by timestamp) says DownloadStarted again,
        // while the overview keeps the highest status.
        await (await fetch(`${base}/${id}/download`, { headers: bearer(altinn) })).arrayBuffer();
        expect(await listed('DownloadStarted')).toContain(id);
        expect(await listed('DownloadConfirmed')).not.toContain(id);
        expect(await status()).toBe('DownloadConfirmed');
    });

    it('serves a single Range with 206 and Content-Range; 416 when unsatisfiable; ignores malformed or multiple ranges', async () => {
        const { fileTransferId: id } = await transfer();
        const get = (range: string) =>
            fetch(`${base}/${id}/download`, { headers: { ...bearer(altinn), Range: range } });
        let response = await get('bytes=1000-1999');
        expect(response.status).toBe(206);
        expect(response.headers.get('content-range')).toBe('bytes 1000-1999/100000');
        expect(response.headers.get('content-length')).toBe('1000');
        expect(Buffer.from(await response.arrayBuffer())).toEqual(await generatedBytes('broker-seed', 1000, 1000));
        response = await get('bytes=99990-');
        expect(response.headers.get('content-range')).toBe('bytes 99990-99999/100000');
        expect((await response.arrayBuffer()).byteLength).toBe(10);
        response = await get('bytes=-5');
        expect(response.headers.get('content-range')).toBe('bytes 99995-99999/100000');
        response = await get('bytes=100000-');
        expect(response.status).toBe(416);
        expect(response.headers.get('content-range')).toBeNull();
        expect(await response.json()).toMatchObject({
            status: 416,
            title: 'Range Not Satisfiable',
            code: 'BRO-00029',
            detail: 'The requested byte range is not satisfiable.',
        });
        response = await get('bytes=0-1,5-6');
        expect(response.status).toBe(200);
        await response.arrayBuffer();
        response = await get('pages=1');
        expect(response.status).toBe(200);
        await response.arrayBuffer();
    });

    it('answers 403 to download without altinn:broker.read, 401 NoAccessToResource to a non-recipient', async () => {
        const { fileTransferId: id } = await transfer();
        const writeOnly = await sim.control.issueAltinnToken({ scopes: ['altinn:broker.write'] });
        expect((await fetch(`${base}/${id}/download`, { headers: bearer(writeOnly) })).status).toBe(403);
        // The overview is SenderOrRecipient: broker.write is enough there.
        expect((await fetch(`${base}/${id}`, { headers: bearer(writeOnly) })).status).toBe(200);
        const stranger = await sim.control.issueAltinnToken({ scopes: ['altinn:broker.read'], orgNumber: '777777777' });
        expect((await fetch(`${base}/${id}/download`, { headers: bearer(stranger) })).status).toBe(401);
        expect(
            (await fetch(`${base}/${id}/confirmdownload`, { method: 'POST', headers: bearer(stranger) })).status,
        ).toBe(401);
    });

    it('marks AllConfirmedDownloaded when every recipient confirmed, after which a repeat confirm is refused', async () => {
        const { fileTransferId: id } = await transfer({ recipients: [ME] });
        await (await fetch(`${base}/${id}/download`, { headers: bearer(altinn) })).arrayBuffer();
        await fetch(`${base}/${id}/confirmdownload`, { method: 'POST', headers: bearer(altinn) });
        const overview = (await (await fetch(`${base}/${id}`, { headers: bearer(altinn) })).json()) as {
            fileTransferStatus: string;
        };
        expect(overview.fileTransferStatus).toBe('AllConfirmedDownloaded');
        // No idempotency key any more: once AllConfirmedDownloaded, a repeat is FileTransferNotPublished.
        const again = await fetch(`${base}/${id}/confirmdownload`, { method: 'POST', headers: bearer(altinn) });
        expect(again.status).toBe(400);
        expect(await again.json()).toMatchObject({
            code: 'BRO-00010',
            detail: 'A file transfer can only be confirmed to be downloaded when it is published. See file transfer status.',
        });
        const types = (await sim.control.listEvents())
            .filter((e) => e.resourceinstance === id)
            .map((e) => `${e.type}:${e.subject}`);
        expect(types).toEqual([
            `no.altinn.broker.published:urn:altinn:organization:identifier-no:${SENDER}`,
            `no.altinn.broker.published:urn:altinn:organization:identifier-no:${ME}`,
            `no.altinn.broker.downloadconfirmed:urn:altinn:organization:identifier-no:${ME}`,
            `no.altinn.broker.downloadconfirmed:urn:altinn:organization:identifier-no:${SENDER}`,
            `no.altinn.broker.allconfirmeddownloaded:urn:altinn:organization:identifier-no:${SENDER}`,
        ]);
    });
});

describe('broker events', () => {
    let receiver: Receiver;
    beforeEach(async () => {
        receiver = await startReceiver();
    });
    afterEach(() => receiver.stop());

    it('pushes no.altinn.broker.published to a generic subscription for the recipient', async () => {
        const subscriber = await sim.control.issueAltinnToken({ scopes: ['altinn:events.subscribe'] });
        const response = await fetch(`${sim.platformUrl}/events/api/v1/subscriptions`, {
            method: 'POST',
            headers: { ...bearer(subscriber), 'Content-Type': 'application/json' },
            body: JSON.stringify({
                endPoint: `${receiver.url}/broker`,
                resourceFilter: `urn:altinn:resource:${RESOURCE}`,
                subjectFilter: `urn:altinn:organization:identifier-no:${ME}`,
                typeFilter: 'no.altinn.broker.published',
            }),
        });
        expect(response.status).toBe(201);
        await receiver.waitFor(1);
        const { id } = (await response.json()) as { id: number };
        await waitUntil(async () =>
            (await sim.control.listSubscriptions()).find((s) => s.id === id)?.validated ? true : undefined,
        );
        const created = await transfer();
        const [, push] = await receiver.waitFor(2);
        await new Promise((r) => setTimeout(r, 50));
        expect(receiver.received).toHaveLength(2);
        const event = JSON.parse(push.body) as CloudEvent;
        expect(event).toEqual({
            specversion: '1.0',
            id: expect.any(String) as string,
            time: expect.any(String) as string,
            source: `${sim.platformUrl}/broker/api/v1/filetransfer`,
            subject: `urn:altinn:organization:identifier-no:${ME}`,
            type: 'no.altinn.broker.published',
            resource: `urn:altinn:resource:${RESOURCE}`,
            resourceinstance: created.fileTransferId,
            data: { Role: 'Recipient' },
        });
    });
    it('delivers fileneverconfirmeddownloaded at expiry only where typeFilter is absent or that very type (exact, case-sensitive)', async () => {
        const subscriber = await sim.control.issueAltinnToken({ scopes: ['altinn:events.subscribe'] });
        // altinn-events getsubscriptions.sql: typefilter IS NULL OR typefilter = type.
        const filters: Record<string, string | undefined> = {
            none: undefined,
            published: 'no.altinn.broker.published',
            never: 'no.altinn.broker.fileneverconfirmeddownloaded',
            cased: 'no.altinn.broker.FileNeverConfirmedDownloaded',
        };
        const ids: number[] = [];
        for (const [path, typeFilter] of Object.entries(filters)) {
            const response = await fetch(`${sim.platformUrl}/events/api/v1/subscriptions`, {
                method: 'POST',
                headers: { ...bearer(subscriber), 'Content-Type': 'application/json' },
                body: JSON.stringify({
                    endPoint: `${receiver.url}/${path}`,
                    resourceFilter: `urn:altinn:resource:${RESOURCE}`,
                    subjectFilter: `urn:altinn:organization:identifier-no:${ME}`,
                    ...(typeFilter ? { typeFilter } : {}),
                }),
            });
            expect(response.status).toBe(201);
            ids.push(((await response.json()) as { id: number }).id);
        }
        await waitUntil(async () => {
            const validated = (await sim.control.listSubscriptions()).filter((s) => s.validated && ids.includes(s.id));
            return validated.length === ids.length ? true : undefined;
        });
        const created = await transfer({ deliver: false });
        const expired = await sim.control.expireFileTransfer(created.fileTransferId);
        expect(expired.overview).toMatchObject({ fileTransferStatus: 'Purged' });
        // PurgeFileTransferHandler: filepurged to the sender; never confirmed to each unconfirmed recipient, then the sender.
        expect(expired.events.map((e) => [e.type, (e.data as { Role: string }).Role, e.subject])).toEqual([
            ['no.altinn.broker.filepurged', 'Sender', `urn:altinn:organization:identifier-no:${SENDER}`],
            [
                'no.altinn.broker.fileneverconfirmeddownloaded',
                'Recipient',
                `urn:altinn:organization:identifier-no:${ME}`,
            ],
            [
                'no.altinn.broker.fileneverconfirmeddownloaded',
                'Recipient',
                'urn:altinn:organization:identifier-no:999999999',
            ],
            [
                'no.altinn.broker.fileneverconfirmeddownloaded',
                'Sender',
                `urn:altinn:organization:identifier-no:${SENDER}`,
            ],
        ]);
        expect((await sim.control.expireFileTransfer(created.fileTransferId)).events).toEqual([]);
        await waitUntil(() =>
            receiver.received.filter((r) => r.body.includes('fileneverconfirmeddownloaded')).length >= 2
                ? true
                : undefined,
        );
        await new Promise((r) => setTimeout(r, 100));
        const pushed = (path: string) =>
            receiver.received
                .filter((r) => r.url === `/${path}`)
                .map((r) => (JSON.parse(r.body) as CloudEvent).type)
                .filter((type) => type !== 'platform.events.validatesubscription');
        expect(pushed('none')).toEqual(['no.altinn.broker.fileneverconfirmeddownloaded']);
        expect(pushed('never')).toEqual(['no.altinn.broker.fileneverconfirmeddownloaded']);
        expect(pushed('published')).toEqual([]);
        expect(pushed('cased')).toEqual([]);
        const overview = await fetch(`${base}/${created.fileTransferId}/download`, { headers: bearer(altinn) });
        expect(overview.status).toBe(403);
    });
});
