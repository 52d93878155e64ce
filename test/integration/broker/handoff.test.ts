import { QueueClient } from '@azure/storage-queue';
import type { BrokerFileReceived } from '../../../shared/handoff/message';
import { receivedValidator } from '../../support/receivedSchema';
import { RESOURCE, SENDER, steps, useBrokerHarness } from './harness';

/*
 * A Broker file's hand-off to case systems (queue instances-received), against Azurite and the
 * simulator: sent once Broker accepted confirmdownload, never before, and at least once: sent
 * again when a retry finds the file stored and confirmed at Broker but the attempt that confirmed
 * stopped before its end.
 */

jest.setTimeout(60_000);

const fast = { chunkBytes: 256 * 1024, retryDelayMs: () => 5 };
const validate = receivedValidator();
const harness = useBrokerHarness(async (h) => {
    const received = new QueueClient(h.azurite.connectionString, 'instances-received');
    if (await received.exists()) await received.clearMessages();
});

async function received(fileTransferId: string): Promise<BrokerFileReceived[]> {
    return (await harness().peek('instances-received'))
        .map((text) => JSON.parse(text) as BrokerFileReceived)
        .filter((message) => message.fileTransferId === fileTransferId);
}

test('a confirmed file is handed off once, after confirmdownload, with the file as its one element', async () => {
    const h = harness();
    const { fileTransferId } = await h.createTransfer({ size: 5000, fileName: 'rapport.pdf' });
    const event = await h.recipientEvent(fileTransferId);
    const run = await h.process(event, fast);
    expect(run.outcome).toMatchObject({ outcome: 'confirmed' });
    expect(steps(run.logs).slice(-2)).toEqual(['handed-off', 'confirmed']);
    const [message] = await received(fileTransferId);
    expect(validate(message)).toEqual([]);
    expect(message).toMatchObject({
        kind: 'brokerFile',
        fileTransferId,
        org: `0192:${SENDER}`,
        resourceId: RESOURCE,
        container: 'broker',
        instanceBlob: `${RESOURCE}/${fileTransferId}/filetransfer.json`,
        manifestBlob: null,
        elements: [{ id: fileTransferId, blob: `${RESOURCE}/${fileTransferId}/rapport.pdf`, size: 5000 }],
    });
    // The same event again: our record says confirmed and handed off; nothing is sent twice.
    expect((await h.process(event, fast)).outcome).toMatchObject({ reason: 'already-confirmed' });
    expect(await received(fileTransferId)).toHaveLength(1);
});

test('a file whose confirmdownload fails is not handed off', async () => {
    const h = harness();
    const { fileTransferId } = await h.createTransfer({ size: 10 });
    await h.sim.control.addFault({ endpoint: 'broker.confirm', status: 400 });
    const run = await h.process(await h.recipientEvent(fileTransferId), fast);
    expect(run.error).toBeDefined();
    expect(await received(fileTransferId)).toEqual([]);
});

test('a retry that finds the file confirmed at Broker but not finished here hands it off (at least once)', async () => {
    const h = harness();
    const { fileTransferId } = await h.createTransfer({ size: 10 });
    const event = await h.recipientEvent(fileTransferId);
    await h.process(event, fast);
    // The attempt that confirmed stopped before its end: our record of the confirmation is missing.
    await h.container.getBlobClient(`${RESOURCE}/${fileTransferId}/filetransfer.json`).setMetadata({});
    const again = await h.process(event, fast);
    // Broker already has our confirmation: our record is completed without a second confirmdownload.
    expect(again.outcome).toMatchObject({ outcome: 'confirmed' });
    const messages = await received(fileTransferId);
    expect(messages).toHaveLength(2);
    expect(messages[1]).toEqual(messages[0]);
});
