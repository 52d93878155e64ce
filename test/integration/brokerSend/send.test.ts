import { randomUUID } from 'node:crypto';
import { gatherStatus } from '../../../shared/status';
import { sentProgress } from '../../../shared/ledger';
import { poisonQueueOf, queues } from '../../../shared/names';
import { listPoison } from '../../../shared/poison';
import { neverExpires } from '../../../shared/refusal';
import { docsSchemaValidator } from '../../support/receivedSchema';
import { steps } from '../broker/harness';
import { RECIPIENT_A, RECIPIENT_B, SEND_RESOURCE, request, useSendHarness } from './harness';

/*
 * BrokerSender and what follows a sent file, against Azurite and the simulator's Broker: the file is
 * initialized, recorded and uploaded once; the sender's events (and, when they are missed, the
 * catch-up) carry it to every recipient's confirmation; a final state goes back to the case systems.
 */

jest.setTimeout(60_000);

const harness = useSendHarness();

function unique(name: string): string {
    return `${randomUUID()}/${name}`;
}

describe('a file sent to two recipients', () => {
    it('is initialized, recorded before the upload, uploaded once, and followed to "confirmed 2/2"', async () => {
        const s = harness();
        const blob = unique('vedtak.pdf');
        const checksum = await s.put(blob, '%PDF-1.7 vedtak\n'.repeat(500));
        const run = await s.send(request(blob, { checksum }));
        expect(run.error).toBeUndefined();
        expect(run.outcome).toMatchObject({ outcome: 'sent', uploadedBytes: 8000 });
        const fileTransferId = (run.outcome as { fileTransferId: string }).fileTransferId;
        // Recorded (blob metadata, ledger) before the upload started.
        expect(steps(run.logs).filter((step) => step.startsWith('broker-'))).toEqual([
            'broker-send-initialized',
            'broker-upload-started',
            'broker-uploaded',
            'broker-sent-state',
        ]);
        expect((await s.outbox.getBlobClient(blob).getProperties()).metadata).toMatchObject({
            filetransferid: fileTransferId,
        });
        const [transfer] = await s.transfers();
        expect(transfer).toMatchObject({
            fileTransferId,
            fileName: 'vedtak.pdf',
            sender: '0192:405003309',
            sendersFileTransferReference: `sak/${blob}`,
            checksum,
            propertyList: { saksnummer: '2026/42' },
        });
        expect(await s.h.sim.control.contentDigest(fileTransferId)).toMatchObject({ size: 8000, md5: checksum });

        // Broker's events to us as sender, as its webhook would bring them; then both recipients confirm.
        await waitForStatus(s, fileTransferId, 'Published');
        await s.deliverSenderEvents(fileTransferId);
        expect((await s.entry(fileTransferId))?.sent).toMatchObject({ state: 'published', confirmedRecipients: 0 });
        await s.h.sim.control.recipientConfirms(fileTransferId, RECIPIENT_A);
        const first = await s.deliverSenderEvents(fileTransferId);
        expect(first.map((r) => r.outcome)).toEqual([{ outcome: 'sent', fileTransferId, state: 'published' }]);
        expect((await s.entry(fileTransferId))?.sent?.confirmedRecipients).toBe(1);
        await s.h.sim.control.recipientConfirms(fileTransferId, RECIPIENT_B);
        await s.deliverSenderEvents(fileTransferId);

        const entry = await s.entry(fileTransferId);
        expect(entry).toMatchObject({ kind: 'sentFile', resourceId: SEND_RESOURCE, confirmed: true });
        expect(entry?.sent).toMatchObject({ state: 'confirmed', final: true, blob, confirmedRecipients: 2 });
        expect(sentProgress(entry!.sent!)).toBe('confirmed 2/2');

        // The case system hears of it once, in the documented shape.
        const handed = (await s.handedBack()).filter((m) => m.fileTransferId === fileTransferId);
        expect(handed).toEqual([
            expect.objectContaining({
                kind: 'brokerSent',
                state: 'confirmed',
                blob,
                container: 'broker-outbound',
                confirmedRecipients: 2,
                reason: null,
                brokerStatus: 'AllConfirmedDownloaded',
            }),
        ]);
        expect(docsSchemaValidator('broker-sent.schema.json')(handed[0])).toEqual([]);

        // The status JSON shows it per resource and per file.
        const report = await gatherStatus({
            config: { catchUpApps: [], reconcileApps: [], brokerResources: [] },
            storage: s.h.storage,
        });
        expect(report.sentResources.find((r) => r.resourceId === SEND_RESOURCE)).toMatchObject({ confirmed: 1 });
        expect(report.sentFiles.find((f) => f.fileTransferId === fileTransferId)).toMatchObject({
            state: 'confirmed',
            progress: 'confirmed 2/2',
            recipients: 2,
            confirmedRecipients: 2,
        });
    });
});

async function waitForStatus(s: ReturnType<typeof harness>, id: string, status: string): Promise<void> {
    for (let i = 0; i < 100; i++) {
        const found = (await s.transfers()).find((t) => t.fileTransferId === id);
        if (found?.fileTransferStatus === status) return;
        await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`${id} never became ${status}`);
}

describe('requests that cannot be sent', () => {
    it('are put on broker-send-poison as received, never to expire, with the reason logged and recorded', async () => {
        const s = harness();
        const bad = { ...request('x'), recipients: ['12345'] };
        const run = await s.send(bad);
        expect(run.outcome).toEqual({ outcome: 'invalid' });
        expect(run.logs[0].message).toMatch(/^step=refused reason=.*recipient.*queue=broker-send-poison/);
        expect(await s.h.peek(poisonQueueOf(queues.brokerSend))).toContain(JSON.stringify(bad));
        const [listed] = await listPoison(s.h.storage, [queues.brokerSend]);
        expect(listed).toMatchObject({ eventId: 'x', refused: true });
        expect(listed.lastError).toMatch(/^not a send request: recipient "12345"/);
        const { peekedMessageItems } = await s.h.storage.queue(poisonQueueOf(queues.brokerSend)).peekMessages();
        expect(neverExpires(peekedMessageItems[0].expiresOn)).toBe(true);
    });
});
