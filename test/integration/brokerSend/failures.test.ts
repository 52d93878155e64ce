import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { BrokerClient } from '../../../shared/altinn/broker';
import { startSendHarness, request, RECIPIENT_A, type SendHarness } from './harness';
import { steps } from '../broker/harness';
import { alertRules, parsedFields } from '../../infra/support/alerts';
import { loadInfra } from '../../infra/support/invariants';

/*
 * How a sent file fails, and what a retry does, as Broker's rules say (shared/brokerSend/sender.ts):
 * a checksum mismatch, a malware finding or a refused size ends the request failed, recorded and
 * handed back, with the line the upload-failed alert reads; an upload that broke goes again on a new
 * transfer; a transfer that expires with a recipient that never confirmed ends expired.
 */

jest.setTimeout(60_000);

let s: SendHarness;

beforeAll(async () => {
    s = await startSendHarness();
}, 60_000);

afterAll(() => s.stop());

beforeEach(async () => {
    await s.h.sim.control.clearFaults();
    await s.h.sim.control.reset();
    await s.h.sim.control.holdBrokerScans(false);
});

function unique(name: string): string {
    return `${randomUUID()}/${name}`;
}

function idOf(outcome: unknown): string {
    return (outcome as { fileTransferId: string }).fileTransferId;
}

describe('a checksum mismatch', () => {
    it('ends failed: Broker refuses the upload, the ledger records it, the case system is told, and the alert line is logged', async () => {
        const blob = unique('vedtak.pdf');
        await s.put(blob, 'the bytes in the outbox');
        const wrong = 'd41d8cd98f00b204e9800998ecf8427e';
        const run = await s.send(request(blob, { checksum: wrong }));
        expect(run.error).toBeUndefined();
        const id = idOf(run.outcome);
        expect(run.outcome).toMatchObject({ outcome: 'sent', state: 'failed' });
        expect(s.h.sim.counters().requests['broker.upload']).toEqual({ '400': 1 });
        const [transfer] = await s.transfers();
        expect(transfer).toMatchObject({ fileTransferStatus: 'Failed', fileTransferStatusText: 'Checksum mismatch' });

        expect((await s.entry(id))?.sent).toMatchObject({
            state: 'failed',
            final: true,
            sending: false,
            brokerStatusText: 'Checksum mismatch',
        });
        const failed = run.logs.find((log) => log.message.startsWith('step=broker-upload-failed '));
        expect(failed).toEqual({
            level: 'error',
            message: `step=broker-upload-failed blob=${blob} resourceId=aos-send-test fileTransferId=${id} reason="Checksum mismatch"`,
        });
        // The alert rule on failed sent files matches this very line: its prefix, and every field it reads.
        const rule = alertRules(await loadInfra()).find((candidate) => candidate.name === 'broker-upload-failed')!;
        expect(rule.query).toContain(`startswith "${failed!.message.slice(0, 'step=broker-upload-failed '.length)}"`);
        for (const field of parsedFields(rule.query)) expect(failed!.message).toMatch(new RegExp(`\\b${field}=`));
        expect((await s.handedBack()).find((m) => m.fileTransferId === id)).toMatchObject({
            state: 'failed',
            reason: 'Checksum mismatch',
            brokerStatus: 'Failed',
        });
        // Nothing is tried again: the request is done, a retry of the message changes nothing.
        const again = await s.send(request(blob, { checksum: wrong }));
        expect(again.outcome).toMatchObject({ fileTransferId: id, state: 'failed', uploadedBytes: 0 });
        expect(steps(again.logs)).toContain('already-done');
        expect(await s.transfers()).toHaveLength(1);
    });
});

describe('an upload that broke', () => {
    it('goes again on a new transfer, the broken one recorded as retried, and the file arrives whole', async () => {
        const blob = unique('stor.bin');
        const data = Buffer.alloc(512 * 1024, 7);
        await s.put(blob, data);
        // The first upload's stream is cut once Broker has begun to take it, as a lost connection would: Broker
        // fails that transfer.
        let cut = false;
        const cutting: BrokerClient = {
            ...s.h.broker,
            upload: async (id, body, size, options) => {
                if (cut) return s.h.broker.upload(id, body, size, options);
                cut = true;
                const breaking = new Readable({ read() {} });
                let sent = 0;
                body.on('data', (chunk: Buffer) => {
                    if (sent >= 64 * 1024) return;
                    sent += chunk.length;
                    breaking.push(chunk);
                });
                const uploading = s.h.broker.upload(id, breaking, size, options);
                await waitFor(async () => (await s.transfers())[0]?.fileTransferStatus === 'UploadStarted');
                breaking.destroy(new Error('connection lost'));
                return uploading;
            },
        };
        const first = await s.send(request(blob), { broker: cutting });
        expect(first.error).toBeDefined();
        const [broken] = await s.transfers();
        await waitFor(async () => (await s.transfers())[0].fileTransferStatus === 'Failed');
        expect((await s.transfers())[0].fileTransferStatusText).toBe('Error occurred while uploading fileTransfer');

        // The uploadfailed event reaches us while the request is still the sender's: not final, nothing handed back.
        const events = await s.deliverSenderEvents(broken.fileTransferId as string);
        expect(events.map((r) => r.outcome)).toContainEqual({
            outcome: 'sent',
            fileTransferId: broken.fileTransferId,
            state: 'failed',
        });
        expect((await s.entry(broken.fileTransferId as string))?.sent).toMatchObject({ final: false, sending: true });

        const second = await s.send(request(blob));
        expect(second.error).toBeUndefined();
        const id = idOf(second.outcome);
        expect(id).not.toBe(broken.fileTransferId);
        expect(steps(second.logs)).toEqual(
            expect.arrayContaining(['broker-upload-retried', 'broker-send-initialized']),
        );
        expect(await s.h.sim.control.contentDigest(id)).toMatchObject({ size: data.length });
        expect((await s.entry(broken.fileTransferId as string))?.sent).toMatchObject({ state: 'retried', final: true });
        expect((await s.entry(id))?.sent?.previous).toEqual([broken.fileTransferId]);
        expect((await s.outbox.getBlobClient(blob).getProperties()).metadata).toMatchObject({
            filetransferid: id,
            previoustransfers: broken.fileTransferId,
        });
        expect((await s.handedBack()).filter((m) => m.fileTransferId === broken.fileTransferId)).toEqual([]);
    });
});

async function waitFor(check: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 200; i++) {
        if (await check()) return;
        await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('timed out');
}

describe('a malware finding', () => {
    it('ends failed with Broker’s reason, from the uploadfailed event', async () => {
        await s.h.sim.control.holdBrokerScans(true);
        const blob = unique('eicar.com');
        await s.put(blob, 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR');
        const id = idOf((await s.send(request(blob))).outcome);
        await s.h.sim.control.completeBrokerScan(id, 'Infected');
        const runs = await s.deliverSenderEvents(id);
        expect(runs.map((r) => r.error)).toEqual(runs.map(() => undefined));
        expect((await s.entry(id))?.sent).toMatchObject({ state: 'failed', final: true });
        expect((await s.entry(id))?.sent?.brokerStatusText).toMatch(/^Malware scan failed: /);
        const handed = (await s.handedBack()).filter((m) => m.fileTransferId === id);
        expect(handed.map((m) => [m.state, String(m.reason).split(':')[0]])).toEqual([
            ['failed', 'Malware scan failed'],
        ]);
    });
});

describe('a file Broker refuses as too large', () => {
    it('ends failed before anything is uploaded, the transfer left Initialized to expire', async () => {
        const small = await startSendHarness({ brokerMaxFileTransferSize: 100 });
        try {
            const blob = unique('for-stor.bin');
            await small.put(blob, Buffer.alloc(101));
            const run = await small.send(request(blob));
            expect(run.outcome).toMatchObject({ outcome: 'sent', state: 'failed' });
            const id = idOf(run.outcome);
            expect((await small.entry(id))?.sent).toMatchObject({
                state: 'failed',
                final: true,
                brokerStatus: 'Initialized',
            });
            expect((await small.handedBack()).find((m) => m.fileTransferId === id)?.reason).toBe(
                'File size exceeds maximum (101 bytes)',
            );
            expect((await small.transfers())[0].fileTransferStatus).toBe('Initialized');
        } finally {
            await small.stop();
        }
    });
});

describe('a transfer that expires with a recipient that never confirmed', () => {
    it('ends expired, with the confirmations it got', async () => {
        const blob = unique('frist.pdf');
        await s.put(blob, 'frist');
        const id = idOf((await s.send(request(blob, { disableVirusScan: true }))).outcome);
        await s.h.sim.control.recipientConfirms(id, RECIPIENT_A);
        await s.h.sim.control.expireFileTransfer(id);
        await s.deliverSenderEvents(id);
        expect((await s.entry(id))?.sent).toMatchObject({ state: 'expired', final: true, confirmedRecipients: 1 });
        expect((await s.handedBack()).find((m) => m.fileTransferId === id)).toMatchObject({
            state: 'expired',
            brokerStatus: 'Purged',
            confirmedRecipients: 1,
        });
    });
});

describe('events to us as sender', () => {
    it('about a transfer we never sent are ignored', async () => {
        const { fileTransferId } = await s.h.sim.control.createFileTransfer({
            resourceId: 'aos-send-test',
            fileName: 'x',
            content: 'x',
            recipients: [RECIPIENT_A],
        });
        const runs = await s.deliverSenderEvents(fileTransferId);
        expect(runs.map((r) => r.outcome)).toEqual([{ outcome: 'ignored', reason: 'not-sent-by-us' }]);
        expect(s.h.sim.counters().requests['broker.overview']).toBeUndefined();
    });
});
