import { randomUUID } from 'node:crypto';
import { startProcessorChild } from '../broker/child';
import { steps } from '../broker/harness';
import { RECIPIENT_A, RECIPIENT_B, request, useSendHarness } from './harness';

/*
 * One request, one transfer: a sender that stops between initialize and upload (killed for real, or
 * its answer from Broker lost), or a request delivered twice, still leaves exactly one transfer in
 * Broker, uploaded once. A published event that never arrives is caught up.
 */

jest.setTimeout(60_000);

const harness = useSendHarness();

function unique(name: string): string {
    return `${randomUUID()}/${name}`;
}

describe('a crash between initialize and upload', () => {
    it('leaves exactly one transfer: the next attempt, in a fresh process, uploads to the recorded one', async () => {
        const s = harness();
        const blob = unique('rapport.csv');
        const checksum = await s.put(blob, 'kommune;innbyggere\nOslo;717710\n');
        // The upload request waits in the network long enough for the process to be killed before Broker sees it.
        await s.h.sim.control.addFault({ endpoint: 'broker.upload', latencyMs: 3_000, times: 1 });
        const first = startProcessorChild(s.h.env, [request(blob, { checksum })], 'brokerSender');
        try {
            await first.waitForLog(/^step=broker-upload-started /);
        } finally {
            await first.kill();
        }
        expect(first.invocations).toEqual([]);
        const [initialized] = await s.transfers();
        expect(initialized.fileTransferStatus).toBe('Initialized');
        const id = initialized.fileTransferId as string;
        expect((await s.outbox.getBlobClient(blob).getProperties()).metadata?.filetransferid).toBe(id);
        expect((await s.entry(id))?.sent).toMatchObject({ state: 'initialized', sending: true, blob });
        // Let the upload Broker never saw pass its latency.
        await new Promise((resolve) => setTimeout(resolve, 3_200));

        const second = await s.send(request(blob, { checksum }));
        expect(second.error).toBeUndefined();
        expect(second.outcome).toMatchObject({ outcome: 'sent', fileTransferId: id });
        expect(steps(second.logs)).not.toContain('broker-send-initialized');
        const transfers = await s.transfers();
        expect(transfers.map((t) => t.fileTransferId)).toEqual([id]);
        expect(s.h.sim.counters().requests['broker.initialize']).toEqual({ '200': 1 });
        expect(s.h.sim.counters().requests['broker.upload']).toEqual({ '200': 1 });
    });

    it('leaves exactly one transfer when Broker created it but its answer was lost: the next attempt finds it', async () => {
        const s = harness();
        const blob = unique('svar.xml');
        await s.put(blob, '<svar/>');
        // Broker initializes the transfer, then the connection breaks before its answer arrives.
        await s.h.sim.control.addFault({ endpoint: 'broker.initialize', truncateAfterBytes: 0, times: 1 });
        const lost = await s.send(request(blob));
        expect(lost.error).toBeDefined();
        const [created] = await s.transfers();
        const metadata = (await s.outbox.getBlobClient(blob).getProperties()).metadata;
        expect(metadata?.sendclaimed).toBeDefined();
        expect(metadata?.filetransferid).toBeUndefined();

        const again = await s.send(request(blob));
        expect(again.error).toBeUndefined();
        expect(again.outcome).toMatchObject({ outcome: 'sent', fileTransferId: created.fileTransferId });
        expect(steps(again.logs)).toContain('broker-send-recovered');
        expect((await s.transfers()).map((t) => t.fileTransferId)).toEqual([created.fileTransferId]);
        expect(s.h.sim.counters().requests['broker.upload']).toEqual({ '200': 1 });
    });

    it('takes no other request’s transfer for its own, and waits while a fresh claim may still be initializing', async () => {
        const s = harness();
        const [mine, theirs] = [unique('a.txt'), unique('a.txt')];
        await s.put(mine, 'a');
        await s.put(theirs, 'a');
        // The other request (same reference) has initialized and recorded its transfer.
        const other = await s.send(request(theirs, { sendersFileTransferReference: 'same' }));
        expect(other.error).toBeUndefined();
        // Ours claimed a moment ago and stopped before Broker answered: nothing of ours to find, and the claim is fresh.
        await s.outbox.getBlobClient(mine).setMetadata({ sendclaimed: new Date().toISOString() });
        const waiting = await s.send(request(mine, { sendersFileTransferReference: 'same' }));
        expect(String(waiting.error)).toMatch(/may be initializing; the queue will try again/);
        expect(await s.transfers()).toHaveLength(1);
        // Once the claim is old, the attempt initializes a transfer of its own.
        await s.outbox
            .getBlobClient(mine)
            .setMetadata({ sendclaimed: new Date(Date.now() - 5 * 60_000).toISOString() });
        const sent = await s.send(request(mine, { sendersFileTransferReference: 'same' }));
        expect(sent.outcome).toMatchObject({ outcome: 'sent' });
        expect(await s.transfers()).toHaveLength(2);
    });
});

describe('a request delivered twice', () => {
    it('is sent once: the second delivery finds the transfer further along and uploads nothing', async () => {
        const s = harness();
        const blob = unique('to-ganger.pdf');
        await s.put(blob, 'x'.repeat(1000));
        const first = await s.send(request(blob));
        const second = await s.send(request(blob));
        expect(second.error).toBeUndefined();
        expect(second.outcome).toMatchObject({
            fileTransferId: (first.outcome as { fileTransferId: string }).fileTransferId,
            uploadedBytes: 0,
        });
        expect(await s.transfers()).toHaveLength(1);
        expect(s.h.sim.counters().requests['broker.upload']).toEqual({ '200': 1 });
    });
});

describe('a missed published event', () => {
    it('is caught up by the sender-side catch-up, and so is every recipient’s confirmation', async () => {
        const s = harness();
        await s.h.sim.control.holdBrokerScans(true);
        const blob = unique('melding.txt');
        await s.put(blob, 'hei');
        const run = await s.send(request(blob));
        const id = (run.outcome as { fileTransferId: string }).fileTransferId;
        expect((await s.entry(id))?.sent?.state).toBe('processing');
        // Broker's scan ends and it publishes; the webhook never brings the events.
        await s.h.sim.control.completeBrokerScan(id, 'Clean');

        const logs = await s.catchUp();
        expect((await s.entry(id))?.sent).toMatchObject({ state: 'published', confirmedRecipients: 0 });
        expect(logs.map((l) => l.message)).toContainEqual(
            expect.stringMatching(new RegExp(`^step=broker-sent-state .*fileTransferId=${id} .*state=published`)),
        );
        expect(logs.map((l) => l.message)).toContainEqual(
            expect.stringMatching(
                /^step=broker-sent-run resourceId=aos-send-test unconfirmed=\d+ oldestUnconfirmedHours=/,
            ),
        );

        await s.h.sim.control.recipientConfirms(id, RECIPIENT_A);
        await s.h.sim.control.recipientConfirms(id, RECIPIENT_B);
        await s.catchUp();
        expect((await s.entry(id))?.sent).toMatchObject({ state: 'confirmed', final: true, confirmedRecipients: 2 });
        expect((await s.handedBack()).filter((m) => m.fileTransferId === id)).toHaveLength(1);
        // Final: the next run does not look at it again.
        const before = s.h.sim.counters().requests['broker.overview']?.['200'] ?? 0;
        await s.catchUp();
        expect(s.h.sim.counters().requests['broker.overview']?.['200'] ?? 0).toBe(before);
    });
});

describe('the same news of a transfer, settled twice at once', () => {
    it('(two events, two hosts) hands the final state back once', async () => {
        const s = harness();
        const blob = unique('samtidig.txt');
        await s.put(blob, 'samtidig');
        const id = ((await s.send(request(blob, { disableVirusScan: true }))).outcome as { fileTransferId: string })
            .fileTransferId;
        await s.h.sim.control.recipientConfirms(id, RECIPIENT_A);
        await s.h.sim.control.recipientConfirms(id, RECIPIENT_B);
        const events = (await s.h.sim.control.listEvents()).filter(
            (e) => e.resourceinstance === id && (e.data as { Role?: string }).Role === 'Sender',
        );
        const last = events.filter((e) => /downloadconfirmed|allconfirmeddownloaded/.test(e.type));
        const runs = await Promise.all([...last, ...last].map((event) => s.h.process(event)));
        expect(runs.map((run) => run.error)).toEqual(runs.map(() => undefined));
        expect((await s.entry(id))?.sent).toMatchObject({ state: 'confirmed', final: true });
        expect((await s.handedBack()).filter((m) => m.fileTransferId === id)).toHaveLength(1);
    });
});
