import { createHash } from 'node:crypto';
import { generatedDigest } from '../../../dev/simulator/dataGenerator';
import { ChecksumMismatchError } from '../../../shared/broker/download';
import { BrokerNotReadyError, processBrokerMessage } from '../../../shared/broker/processor';
import { ledgerOf } from '../../../shared/ledger';
import { queues } from '../../../shared/names';
import { listPoison } from '../../../shared/poison';
import { invocationContext } from '../../support/functions';
import { bearer } from '../../support/simulator';
import {
    ME,
    OTHER_RESOURCE,
    RESOURCE,
    SENDER,
    poisonQueue,
    readBlob,
    startBrokerHarness,
    steps,
    type BrokerHarness,
} from './harness';

/*
 * BrokerProcessor against Azurite and the simulator: a published file is stored, hashed, its
 * overview written last and the download confirmed once; broken downloads resume; events that
 * are not ours are dropped without a download.
 */

const CHUNK = 256 * 1024;
const fast = { chunkBytes: CHUNK, retryDelayMs: () => 5 };

let h: BrokerHarness;

beforeAll(async () => {
    h = await startBrokerHarness();
}, 60_000);

afterAll(() => h.stop());

beforeEach(async () => {
    await h.sim.control.clearFaults();
    await h.sim.control.reset();
});

function confirms(): number {
    return h.sim.counters().requests['broker.confirm']?.['204'] ?? 0;
}

function served(fileTransferId: string): number {
    return h.sim.counters().contentBytes[fileTransferId] ?? 0;
}

async function overviewAsServed(fileTransferId: string): Promise<string> {
    const token = await h.sim.control.issueAltinnToken({ scopes: ['altinn:broker.read'] });
    const response = await fetch(`${h.sim.platformUrl}/broker/api/v1/filetransfer/${fileTransferId}`, {
        headers: bearer(token),
    });
    return response.text();
}

describe('a published file', () => {
    it('is stored with its hash, the overview is written last exactly as returned, and confirmed once', async () => {
        const size = 3 * CHUNK + 12_345;
        const { fileTransferId } = await h.createTransfer({
            size,
            seed: 'published-1',
            fileName: 'årsrapport 2026.pdf',
        });
        const servedOverview = await overviewAsServed(fileTransferId);
        const event = await h.recipientEvent(fileTransferId);

        const run = await h.process(event, fast);
        expect(run.error).toBeUndefined();
        expect(run.outcome).toMatchObject({ outcome: 'confirmed', fileTransferId, bytes: size });

        const blobName = `${RESOURCE}/${fileTransferId}/årsrapport 2026.pdf`;
        const file = await readBlob(h.container, blobName);
        const digest = await h.sim.control.contentDigest(fileTransferId);
        expect(file.length).toBe(size);
        expect(createHash('sha256').update(file).digest('hex')).toBe(digest.sha256);
        const properties = await h.container.getBlobClient(blobName).getProperties();
        expect(Buffer.from(properties.contentMD5!).toString('hex')).toBe(digest.md5);
        expect(properties.contentType).toBe('application/octet-stream');
        expect(properties.contentDisposition).toContain("filename*=UTF-8''%C3%A5rsrapport%202026.pdf");
        expect(properties.metadata).toMatchObject({ filetransferid: fileTransferId, resourceid: RESOURCE });
        expect(properties.metadata?.partial).toBeUndefined();

        // The overview as Broker sent it, byte for byte, written after the file.
        const overviewName = `${RESOURCE}/${fileTransferId}/filetransfer.json`;
        expect((await readBlob(h.container, overviewName)).toString('utf8')).toBe(servedOverview);
        const overviewProps = await h.container.getBlobClient(overviewName).getProperties();
        expect(overviewProps.metadata?.confirmed).toBeDefined();
        expect(steps(run.logs).filter((s) => ['stored', 'overview-stored', 'confirmed'].includes(s))).toEqual([
            'stored',
            'overview-stored',
            'confirmed',
        ]);

        expect(confirms()).toBe(1);
        expect(served(fileTransferId)).toBe(size);
        // The ledger has the file: first seen through the webhook, stored with its size, confirmed.
        expect(await ledgerOf(h.storage).find(fileTransferId)).toEqual([
            expect.objectContaining({
                kind: 'brokerFile',
                resourceId: RESOURCE,
                firstSeenVia: 'webhook',
                bytes: size,
                confirmed: true,
            }),
        ]);
        const [overview] = (await h.sim.control.listFileTransfers()).filter((t) => t.fileTransferId === fileTransferId);
        expect(overview.recipients).toEqual([
            expect.objectContaining({
                recipient: `0192:${ME}`,
                currentRecipientFileTransferStatusCode: 'DownloadConfirmed',
            }),
        ]);
        const logLine = run.logs.find((l) => l.message.startsWith('step=stored'))!.message;
        expect(logLine).toContain(`md5=${digest.md5}`);
        expect(logLine).toContain('checksum=verified');
    });

    it('is neither downloaded nor confirmed again when the same event comes twice', async () => {
        const { fileTransferId } = await h.createTransfer({ size: 5000 });
        const event = await h.recipientEvent(fileTransferId);
        expect((await h.process(event, fast)).outcome).toMatchObject({ outcome: 'confirmed' });
        const again = await h.process(event, fast);
        expect(again.outcome).toEqual({ outcome: 'skipped', reason: 'already-confirmed', fileTransferId });
        expect(confirms()).toBe(1);
        expect(served(fileTransferId)).toBe(5000);
        // Our own record answered: Broker was not even asked.
        expect(h.sim.counters().requests['broker.overview']?.['200']).toBe(1);
    });

    it('is marked confirmed, without a download or another confirm, when Broker has it confirmed and we stored it', async () => {
        const { fileTransferId } = await h.createTransfer({ size: 10, recipients: [ME, '999999999'] });
        const event = await h.recipientEvent(fileTransferId);
        await h.process(event, fast);
        // Lose our record of the confirmation: Broker's overview still says DownloadConfirmed for ME.
        const overviewBlob = h.container.getBlobClient(`${RESOURCE}/${fileTransferId}/filetransfer.json`);
        await overviewBlob.setMetadata({});
        const again = await h.process(event, fast);
        expect(again.outcome).toMatchObject({ outcome: 'confirmed', downloadedBytes: 0 });
        expect((await overviewBlob.getProperties()).metadata?.confirmed).toBeDefined();
        expect(served(fileTransferId)).toBe(10);
        expect(confirms()).toBe(1);
    });

    it('ends confirmed when a retried confirm finds Broker past Published (the first answer was lost)', async () => {
        const { fileTransferId } = await h.createTransfer({ size: 10 });
        // The first confirm goes through at Broker but its answer never arrives; the retry gets Broker's real
        // answer to a repeat: 400 FileTransferNotPublished, since the transfer is AllConfirmedDownloaded by then.
        const lostAnswer = {
            ...h.broker,
            confirmDownload: async (id: string, options?: Parameters<typeof h.broker.confirmDownload>[1]) => {
                await h.broker.confirmDownload(id, options);
                return h.broker.confirmDownload(id, options);
            },
        };
        const { context, logs } = invocationContext('BrokerProcessor');
        const outcome = await processBrokerMessage(
            await h.recipientEvent(fileTransferId),
            { config: h.config, storage: h.storage, broker: lostAnswer, tokens: h.altinn.tokens, download: fast },
            context,
        );
        expect(outcome).toMatchObject({ outcome: 'confirmed', fileTransferId });
        expect(h.sim.counters().requests['broker.confirm']).toEqual({ '204': 1, '400': 1 });
        expect(steps(logs)).toEqual(expect.arrayContaining(['confirm-already-done', 'confirmed']));
        const overviewBlob = h.container.getBlobClient(`${RESOURCE}/${fileTransferId}/filetransfer.json`);
        expect((await overviewBlob.getProperties()).metadata?.confirmed).toBeDefined();
    });

    it('keeps the SHA-256 of the file as blob metadata, also when a later invocation finished the download', async () => {
        const size = 5 * CHUNK + 99;
        const { fileTransferId } = await h.createTransfer({ size, seed: 'sha-1' });
        const event = await h.recipientEvent(fileTransferId);
        await h.sim.control.addFault({ endpoint: 'broker.download', truncateAfterBytes: 3 * CHUNK + 7, times: 1 });
        expect((await h.process(event, { ...fast, maxAttemptsWithoutProgress: 0 })).error).toBeDefined();
        const run = await h.process(event, fast);
        expect(run.outcome).toMatchObject({ outcome: 'confirmed', downloadedBytes: size - 3 * CHUNK });
        const properties = await h.container
            .getBlobClient(`${RESOURCE}/${fileTransferId}/rapport 2026.pdf`)
            .getProperties();
        expect(properties.metadata?.sha256).toBe((await h.sim.control.contentDigest(fileTransferId)).sha256);
        expect(run.logs.find((l) => l.message.startsWith('step=stored'))!.message).toContain(
            `sha256=${properties.metadata?.sha256}`,
        );
    });

    it('only confirms when the file and overview were stored but the confirmation failed', async () => {
        const { fileTransferId } = await h.createTransfer({ size: 2 * CHUNK });
        const event = await h.recipientEvent(fileTransferId);
        await h.sim.control.addFault({ endpoint: 'broker.confirm', status: 400, times: 1 });
        const first = await h.process(event, fast);
        expect(first.error).toBeDefined();
        expect(steps(first.logs)).toContain('overview-stored');
        const second = await h.process(event, fast);
        expect(second.outcome).toMatchObject({ outcome: 'confirmed', downloadedBytes: 0 });
        expect(steps(second.logs)).toContain('already-stored');
        expect(served(fileTransferId)).toBe(2 * CHUNK);
        expect(confirms()).toBe(1);
    });

    it('stores an empty file, and one without a checksum', async () => {
        const empty = await h.createTransfer({ size: 0, fileName: 'empty.txt' });
        const run = await h.process(await h.recipientEvent(empty.fileTransferId), fast);
        expect(run.error).toBeUndefined();
        expect(run.outcome).toMatchObject({ outcome: 'confirmed', bytes: 0, md5: createHash('md5').digest('hex') });
        expect((await readBlob(h.container, `${RESOURCE}/${empty.fileTransferId}/empty.txt`)).length).toBe(0);

        const unchecked = await h.createTransfer({ content: 'hei', checksum: false, fileName: 'hei.txt' });
        const second = await h.process(await h.recipientEvent(unchecked.fileTransferId), fast);
        expect(second.outcome).toMatchObject({ outcome: 'confirmed', bytes: 3 });
        expect(second.logs.find((l) => l.message.startsWith('step=stored'))!.message).toContain('checksum=absent');
        expect((await readBlob(h.container, `${RESOURCE}/${unchecked.fileTransferId}/hei.txt`)).toString()).toBe('hei');
    });

    it('gets a safe blob name from any file name, keeping Unicode', async () => {
        const { fileTransferId } = await h.createTransfer({ content: 'x', fileName: '..\\..//etc/../søknad ✓.xml' });
        const run = await h.process(await h.recipientEvent(fileTransferId), fast);
        expect(run.outcome).toMatchObject({ blobName: `${RESOURCE}/${fileTransferId}/søknad ✓.xml` });
        const names: string[] = [];
        for await (const blob of h.container.listBlobsFlat({ prefix: `${RESOURCE}/${fileTransferId}/` })) {
            names.push(blob.name);
        }
        expect(names.sort()).toEqual([
            `${RESOURCE}/${fileTransferId}/filetransfer.json`,
            `${RESOURCE}/${fileTransferId}/søknad ✓.xml`,
        ]);
    });
});

describe('a broken download', () => {
    it('resumes within the invocation from where it stopped, fetching nothing twice', async () => {
        const size = 8 * CHUNK + 1000;
        const { fileTransferId } = await h.createTransfer({ size, seed: 'broken-1' });
        await h.sim.control.addFault({
            endpoint: 'broker.download',
            truncateAfterBytes: Math.floor(size / 2) + 17,
            times: 1,
        });
        await h.sim.control.addFault({ endpoint: 'broker.download', truncateAfterBytes: CHUNK + 3, times: 1 });
        const run = await h.process(await h.recipientEvent(fileTransferId), fast);
        expect(run.error).toBeUndefined();
        expect(run.outcome).toMatchObject({
            outcome: 'confirmed',
            bytes: size,
            md5: await generatedDigest('broken-1', size, 'md5'),
            // Every byte received once: the resumed requests start where the received bytes end.
            downloadedBytes: size,
        });
        expect(steps(run.logs).filter((s) => s === 'download-retry')).toHaveLength(2);
        expect(h.sim.counters().requests['broker.download']).toEqual({ '200': 1, '206': 2 });
        expect(served(fileTransferId)).toBeLessThanOrEqual(size + CHUNK);
        expect(confirms()).toBe(1);
    });

    it('resumes after a connection reset before the answer', async () => {
        const { fileTransferId } = await h.createTransfer({ size: 2 * CHUNK, seed: 'reset-1' });
        await h.sim.control.addFault({ endpoint: 'broker.download', reset: true, times: 1 });
        const run = await h.process(await h.recipientEvent(fileTransferId), fast);
        expect(run.outcome).toMatchObject({
            outcome: 'confirmed',
            md5: await generatedDigest('reset-1', 2 * CHUNK, 'md5'),
        });
        expect(served(fileTransferId)).toBe(2 * CHUNK);
    });

    it('is continued by the next invocation after one failed mid-stream, the overview only then written', async () => {
        const size = 10 * CHUNK + 77;
        const { fileTransferId } = await h.createTransfer({ size, seed: 'across-1' });
        const event = await h.recipientEvent(fileTransferId);
        await h.sim.control.addFault({
            endpoint: 'broker.download',
            truncateAfterBytes: 6 * CHUNK + 1234,
            times: 1,
        });
        // This invocation gives up at the first break, as one that crashed or timed out would.
        const first = await h.process(event, { ...fast, maxAttemptsWithoutProgress: 0 });
        expect(first.error).toBeDefined();
        expect(steps(first.logs)).toContain('failed');
        const blobName = `${RESOURCE}/${fileTransferId}/rapport 2026.pdf`;
        const partial = await h.container.getBlobClient(blobName).getProperties();
        expect(partial.contentLength).toBe(6 * CHUNK);
        expect(partial.metadata?.partial).toBe('true');
        expect(await h.container.getBlobClient(`${RESOURCE}/${fileTransferId}/filetransfer.json`).exists()).toBe(false);
        expect(confirms()).toBe(0);

        const second = await h.process(event, fast);
        expect(second.error).toBeUndefined();
        expect(second.outcome).toMatchObject({
            outcome: 'confirmed',
            downloadedBytes: size - 6 * CHUNK,
            md5: await generatedDigest('across-1', size, 'md5'),
        });
        expect(second.logs.find((l) => l.message.startsWith('step=download-resume'))?.message).toContain(
            `fromBytes=${6 * CHUNK}`,
        );
        // At most the block that was being filled is fetched twice.
        expect(served(fileTransferId)).toBeLessThanOrEqual(size + CHUNK);
        expect(h.sim.counters().requests['broker.download']).toEqual({ '200': 1, '206': 1 });
        const stored = await readBlob(h.container, blobName);
        expect(createHash('md5').update(stored).digest('hex')).toBe(await generatedDigest('across-1', size, 'md5'));
        expect(confirms()).toBe(1);
    });

    it('fails the invocation when Broker keeps failing, keeping what it stored for the next attempt', async () => {
        const { fileTransferId } = await h.createTransfer({ size: 4 * CHUNK, seed: 'stall-1' });
        await h.sim.control.addFault({ endpoint: 'broker.download', truncateAfterBytes: 2 * CHUNK + 10, times: 1 });
        await h.sim.control.addFault({ endpoint: 'broker.download', status: 503 });
        const run = await h.process(await h.recipientEvent(fileTransferId), fast);
        expect(run.error).toMatchObject({ name: 'AltinnHttpError', status: 503, transient: true });
        const blob = h.container.getBlobClient(`${RESOURCE}/${fileTransferId}/rapport 2026.pdf`);
        expect((await blob.getProperties()).contentLength).toBe(2 * CHUNK);
        await h.sim.control.clearFaults();
        const next = await h.process(await h.recipientEvent(fileTransferId), fast);
        expect(next.outcome).toMatchObject({
            outcome: 'confirmed',
            downloadedBytes: 2 * CHUNK,
            md5: await generatedDigest('stall-1', 4 * CHUNK, 'md5'),
        });
        expect(served(fileTransferId)).toBeLessThanOrEqual(4 * CHUNK + CHUNK);
    });
});

describe('checks', () => {
    it('refuses a file whose MD5 is not Broker’s checksum, deleting what it stored', async () => {
        const { fileTransferId, overview } = await h.createTransfer({ size: 2 * CHUNK + 5 });
        await h.sim.control.addFault({
            endpoint: 'broker.overview',
            status: 200,
            body: { ...overview, checksum: '0123456789abcdef0123456789abcdef' },
        });
        const run = await h.process(await h.recipientEvent(fileTransferId), fast);
        expect(run.error).toBeInstanceOf(ChecksumMismatchError);
        expect(steps(run.logs)).toContain('failed');
        expect(await h.container.getBlobClient(`${RESOURCE}/${fileTransferId}/rapport 2026.pdf`).exists()).toBe(false);
        expect(await h.container.getBlobClient(`${RESOURCE}/${fileTransferId}/filetransfer.json`).exists()).toBe(false);
        expect(confirms()).toBe(0);
    });

    it('fails so that the queue retries while the transfer is not yet published, and downloads nothing', async () => {
        const { fileTransferId, overview } = await h.createTransfer({ size: 100 });
        const fault = await h.sim.control.addFault({
            endpoint: 'broker.overview',
            status: 200,
            body: { ...overview, fileTransferStatus: 'UploadProcessing' },
        });
        const run = await h.process(await h.recipientEvent(fileTransferId), fast);
        expect(run.error).toBeInstanceOf(BrokerNotReadyError);
        expect(steps(run.logs)).toEqual(expect.arrayContaining(['overview', 'not-ready', 'failed']));
        expect(h.sim.counters().requests['broker.download']).toBeUndefined();

        await h.sim.control.removeFault(fault.id);
        await h.sim.control.addFault({
            endpoint: 'broker.download',
            status: 403,
            body: { title: 'Forbidden', status: 403, detail: 'not ready for download' },
            contentType: 'application/problem+json',
            times: 1,
        });
        const second = await h.process(await h.recipientEvent(fileTransferId), fast);
        expect(second.error).toBeInstanceOf(BrokerNotReadyError);
        const third = await h.process(await h.recipientEvent(fileTransferId), fast);
        expect(third.outcome).toMatchObject({ outcome: 'confirmed' });
    });

    it('drops a transfer that was cancelled or is unknown to Broker', async () => {
        const { fileTransferId, overview } = await h.createTransfer({ size: 100 });
        await h.sim.control.addFault({
            endpoint: 'broker.overview',
            status: 200,
            body: { ...overview, fileTransferStatus: 'Purged' },
            times: 1,
        });
        const run = await h.process(await h.recipientEvent(fileTransferId), fast);
        expect(run.outcome).toEqual({ outcome: 'skipped', reason: 'not-downloadable', fileTransferId });

        const event = {
            ...(await h.recipientEvent(fileTransferId)),
            resourceinstance: '00000000-0000-4000-8000-000000000000',
        };
        const unknown = await h.process(event, fast);
        expect(unknown.outcome).toMatchObject({ outcome: 'skipped', reason: 'not-found' });
        expect(h.sim.counters().requests['broker.download']).toBeUndefined();
    });
});

describe('Broker’s other events', () => {
    it('reports fileneverconfirmeddownloaded for us at error, naming the transfer, and drops it', async () => {
        const { fileTransferId } = await h.createTransfer({ size: 10 });
        const published = await h.recipientEvent(fileTransferId);
        const event = { ...published, type: 'no.altinn.broker.fileneverconfirmeddownloaded' };
        const run = await h.process(event, fast);
        expect(run.outcome).toEqual({ outcome: 'never-confirmed', fileTransferId });
        expect(run.logs).toContainEqual({
            level: 'error',
            message: `step=broker-never-confirmed fileTransferId=${fileTransferId} resourceId=${RESOURCE} eventId=${String(published.id)}`,
        });
        expect(h.sim.counters().requests['broker.overview']).toBeUndefined();
    });

    it('logs the echoes of our confirmation and filepurged at info and drops them', async () => {
        const { fileTransferId } = await h.createTransfer({ size: 10 });
        const published = await h.recipientEvent(fileTransferId);
        for (const type of ['no.altinn.broker.downloadconfirmed', 'no.altinn.broker.filepurged']) {
            const run = await h.process({ ...published, type }, fast);
            expect(run.outcome).toEqual({ outcome: 'ignored', reason: 'type' });
            expect(run.logs).toEqual([expect.objectContaining({ level: 'information' })]);
        }
    });

    it('takes a published event whose source is Broker’s in another form, pointing at the setting once', async () => {
        const { fileTransferId } = await h.createTransfer({ size: 10 });
        const second = await h.createTransfer({ size: 10 });
        const source = `${h.sim.platformUrl}//broker/api/v1/filetransfer`;
        const run = await h.process({ ...(await h.recipientEvent(fileTransferId)), source }, fast);
        expect(run.outcome).toMatchObject({ outcome: 'confirmed' });
        expect(run.logs).toContainEqual({
            level: 'warning',
            message: `step=broker-source-differs source=${source} expected=${h.broker.fileTransferBase} setting=AltinnPlatformBaseUrl`,
        });
        const again = await h.process({ ...(await h.recipientEvent(second.fileTransferId)), source }, fast);
        expect(again.outcome).toMatchObject({ outcome: 'confirmed' });
        expect(steps(again.logs)).not.toContain('broker-source-differs');
    });
});

describe('events that are not ours', () => {
    it('are dropped, logged, and cause no download', async () => {
        const { fileTransferId } = await h.createTransfer({ size: 100 });
        const published = await h.recipientEvent(fileTransferId);
        const events = await h.sim.control.listEvents();
        const senderEvent = events.find(
            (e) => e.resourceinstance === fileTransferId && (e.data as { Role?: string }).Role === 'Sender',
        );
        const cases: [Record<string, unknown>, string][] = [
            [{ ...published, type: 'no.altinn.broker.downloadconfirmed' }, 'type'],
            [{ ...published, type: 'no.altinn.broker.filepurged' }, 'type'],
            [{ ...published, resource: `urn:altinn:resource:${OTHER_RESOURCE}` }, 'resource'],
            [{ ...published, resource: undefined }, 'resource'],
            [senderEvent!, 'role'],
            [{ ...published, data: { Role: 'Sender' } }, 'role'],
        ];
        for (const [event, reason] of cases) {
            const run = await h.process(event, fast);
            expect(run.outcome).toEqual({ outcome: 'ignored', reason });
            expect(run.logs[0].message).toMatch(new RegExp(`^step=ignored .*reason=${reason}`));
        }
        // On our resource but unusable: refused into the poison queue with the reason, never fetched.
        const unusable: [Record<string, unknown>, string][] = [
            [
                { ...published, id: 'forged-source', source: 'https://evil.example/broker/api/v1/filetransfer' },
                'source',
            ],
            [{ ...published, id: 'forged-instance', resourceinstance: '../../x' }, 'resourceinstance'],
        ];
        for (const [event, reason] of unusable) {
            const run = await h.process(event, fast);
            expect(run.outcome).toEqual({ outcome: 'refused', reason });
            expect(run.logs[0].message).toMatch(new RegExp(`^step=refused .*reason="?${reason}: `));
        }
        const poisoned = await listPoison(h.storage, [queues.brokerInbound]);
        expect(poisoned.filter((m) => m.eventId?.startsWith('forged-')).map((m) => [m.eventId, m.refused])).toEqual([
            ['forged-source', true],
            ['forged-instance', true],
        ]);
        const counters = h.sim.counters();
        expect(counters.requests['broker.overview']).toBeUndefined();
        expect(counters.requests['broker.download']).toBeUndefined();
        expect(counters.requests['broker.confirm']).toBeUndefined();
    });

    it('is still processed without data, and a message that is not a CloudEvent goes to the poison queue', async () => {
        const { fileTransferId } = await h.createTransfer({ size: 100 });
        const event = { ...(await h.recipientEvent(fileTransferId)) };
        delete event.data;
        expect((await h.process(JSON.stringify(event), fast)).outcome).toMatchObject({ outcome: 'confirmed' });

        const run = await h.process('{"not":"an event"}', fast);
        expect(run.outcome).toEqual({ outcome: 'invalid' });
        expect(await h.peek(poisonQueue)).toContain('{"not":"an event"}');
        expect(run.logs[0].message).toMatch(/^step=refused .*reason="not a CloudEvent: /);
        // Never to expire, and the reason beside it for `aos poison list`.
        const { peekedMessageItems } = await h.storage.queue(poisonQueue).peekMessages({ numberOfMessages: 32 });
        expect(peekedMessageItems.at(-1)?.expiresOn.getUTCFullYear()).toBe(9999);
        const listed = await listPoison(h.storage, [queues.brokerInbound]);
        expect(listed.at(-1)).toMatchObject({
            refused: true,
            lastError: expect.stringMatching(/^not a CloudEvent: /) as unknown,
        });
    });

    it('names the sender organisation only in the subject; a transfer to someone else is refused and skipped without a token refresh', async () => {
        const { fileTransferId } = await h.createTransfer({ size: 10, recipients: ['999999999'], sender: SENDER });
        const event = {
            specversion: '1.0',
            id: 'x-1',
            source: `${h.sim.platformUrl}/broker/api/v1/filetransfer`,
            type: 'no.altinn.broker.published',
            resource: `urn:altinn:resource:${RESOURCE}`,
            resourceinstance: fileTransferId,
            data: { Role: 'Recipient' },
        };
        await h.altinn.tokens.getAltinnToken();
        const exchanges = h.sim.counters().exchanges;
        const run = await h.process(event, fast);
        expect(run.outcome).toEqual({ outcome: 'skipped', reason: 'no-access', fileTransferId });
        const line = run.logs.find((l) => l.message.startsWith('step=skipped'))!;
        expect(line.level).toBe('warning');
        expect(line.message).toContain(`resourceId=${RESOURCE} fileTransferId=${fileTransferId} reason=no-access`);
        expect(line.message).toContain('NoAccessToResource');
        // Broker's 401 was an authorization decision: no new token was fetched, nothing is poisoned.
        expect(h.sim.counters().exchanges).toBe(exchanges);
        expect(h.sim.counters().requests['broker.overview']).toEqual({ '401': 1 });
        // The invocation succeeds: the queue neither retries it nor ends it in the poison queue.
        expect(run.error).toBeUndefined();
    });

    it('still refreshes a token Broker rejects (401 without a problem body) once, and goes on', async () => {
        const { fileTransferId } = await h.createTransfer({ size: 10 });
        await h.altinn.tokens.getAltinnToken();
        const exchanges = h.sim.counters().exchanges;
        await h.sim.control.addFault({ endpoint: 'broker.overview', status: 401, times: 1 });
        const run = await h.process(await h.recipientEvent(fileTransferId), fast);
        expect(run.outcome).toMatchObject({ outcome: 'confirmed' });
        expect(h.sim.counters().exchanges).toBe(exchanges + 1);
        expect(h.sim.counters().requests['broker.overview']).toEqual({ '200': 1, '401': 1 });
    });
});

test('a configuration without altinn:broker.read in MaskinportenScopes is pointed out once', async () => {
    const config = { ...h.config, maskinporten: { ...h.config.maskinporten, scopes: ['altinn:events.subscribe'] } };
    const deps = { config, storage: h.storage, broker: h.broker, download: fast };
    const { fileTransferId } = await h.createTransfer({ size: 10 });
    const event = await h.recipientEvent(fileTransferId);
    const first = invocationContext('BrokerProcessor');
    await processBrokerMessage(event, deps, first.context);
    expect(first.logs[0]).toEqual({
        level: 'warning',
        message: 'step=scope-missing scope=altinn:broker.read setting=MaskinportenScopes',
    });
    const second = invocationContext('BrokerProcessor');
    await processBrokerMessage(event, deps, second.context);
    expect(second.logs.some((l) => l.message.includes('scope-missing'))).toBe(false);
});
