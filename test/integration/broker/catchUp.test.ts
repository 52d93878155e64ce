import { runBrokerCatchUp } from '../../../shared/broker/catchUp';
import { queues } from '../../../shared/names';
import { decodeQueueMessage } from '../../../shared/storage';
import { invocationContext } from '../../support/functions';
import { ME, OTHER_RESOURCE, RESOURCE, SENDER, startBrokerHarness, steps, type BrokerHarness } from './harness';

/* BrokerCatchUp: transfers whose webhook never came are found in Broker's list and queued. */

let h: BrokerHarness;

beforeAll(async () => {
    h = await startBrokerHarness();
}, 60_000);

afterAll(() => h.stop());

beforeEach(async () => {
    await h.sim.control.reset();
    await h.brokerInbound.clearMessages();
});

async function catchUp() {
    const { context, logs } = invocationContext('BrokerCatchUp');
    const deps = { config: h.config, storage: h.storage, broker: h.broker, tokens: h.altinn.tokens };
    try {
        return { result: await runBrokerCatchUp(deps, context), logs };
    } catch (error) {
        return { error, logs };
    }
}

/** Takes every message off broker-inbound. */
async function takeQueued(): Promise<Record<string, unknown>[]> {
    const taken: Record<string, unknown>[] = [];
    for (;;) {
        const { receivedMessageItems } = await h.brokerInbound.receiveMessages({ numberOfMessages: 32 });
        if (receivedMessageItems.length === 0) return taken;
        for (const item of receivedMessageItems) {
            taken.push(JSON.parse(decodeQueueMessage(item.messageText)) as Record<string, unknown>);
            await h.brokerInbound.deleteMessage(item.messageId, item.popReceipt);
        }
    }
}

test('an unconfirmed transfer missed by the webhook is queued as a published event, processed, and not queued again', async () => {
    const missed = await h.createTransfer({ size: 1000, deliver: false, fileName: 'missed.xml' });
    // Downloaded once, but the confirmation never reached Broker: its recipient status is DownloadStarted.
    const unconfirmed = await h.createTransfer({ size: 500, deliver: false });
    await h.sim.control.addFault({ endpoint: 'broker.confirm', status: 500, times: 20 });
    expect((await h.process(await h.recipientEvent(unconfirmed.fileTransferId))).error).toBeDefined();
    await h.sim.control.clearFaults();
    const done = await h.createTransfer({ size: 10 });
    expect((await h.process(await h.recipientEvent(done.fileTransferId))).outcome).toMatchObject({
        outcome: 'confirmed',
    });
    await h.createTransfer({ size: 10, resourceId: OTHER_RESOURCE });
    await h.createTransfer({ size: 10, recipients: ['999999999'] });
    await h.createTransfer({ size: 10, recipients: [SENDER], sender: ME });

    const first = await catchUp();
    expect(first.error).toBeUndefined();
    expect(new Set(first.result!.queued)).toEqual(new Set([missed.fileTransferId, unconfirmed.fileTransferId]));
    const queued = await takeQueued();
    expect(queued).toHaveLength(2);
    const event = queued.find((e) => e.resourceinstance === missed.fileTransferId)!;
    expect(event).toEqual({
        specversion: '1.0',
        id: `catchup-${missed.fileTransferId}`,
        time: expect.any(String) as string,
        source: `${h.sim.platformUrl}/broker/api/v1/filetransfer`,
        type: 'no.altinn.broker.published',
        subject: `urn:altinn:organization:identifier-no:${ME}`,
        resource: `urn:altinn:resource:${RESOURCE}`,
        resourceinstance: missed.fileTransferId,
        data: { Role: 'Recipient' },
        aosvia: 'catchup',
    });
    expect(steps(first.logs)).toEqual(expect.arrayContaining(['catchup-listed', 'catchup-queued', 'catchup-done']));
    // Broker was asked for what the docs recipe asks for: published, not yet confirmed by us.
    expect(first.logs.filter((l) => l.message.startsWith('step=catchup-listed')).map((l) => l.message)).toEqual(
        expect.arrayContaining([
            expect.stringContaining(`resourceId=${RESOURCE} recipientStatus=Initialized count=1`),
            expect.stringContaining(`resourceId=${RESOURCE} recipientStatus=DownloadStarted count=1`),
        ]),
    );

    for (const message of queued) {
        const run = await h.process(message);
        expect(run.outcome).toMatchObject({ outcome: 'confirmed' });
    }
    expect(await h.container.getBlobClient(`${RESOURCE}/${missed.fileTransferId}/missed.xml`).exists()).toBe(true);

    const second = await catchUp();
    expect(second.result).toEqual({ queued: [], skipped: [], failedResources: [] });
    expect(await takeQueued()).toEqual([]);
});

test('a transfer Broker still lists but that we stored and confirmed is skipped', async () => {
    const { fileTransferId } = await h.createTransfer({ size: 10, deliver: false });
    await h.container
        .getBlockBlobClient(`${RESOURCE}/${fileTransferId}/filetransfer.json`)
        .upload('{}', 2, { metadata: { confirmed: new Date().toISOString() } });
    const run = await catchUp();
    expect(run.result).toEqual({ queued: [], skipped: [fileTransferId], failedResources: [] });
    expect(steps(run.logs)).toContain('catchup-skipped');
});

test('a full list of 100 is logged; the rest come on the next run', async () => {
    for (let i = 0; i < 101; i++) {
        await h.sim.control.createFileTransfer({
            resourceId: RESOURCE,
            fileName: `f${i}`,
            content: 'x',
            recipients: [ME],
            checksum: false,
            publish: false,
        });
    }
    const run = await catchUp();
    expect(run.result?.queued).toHaveLength(100);
    expect(run.logs.find((l) => l.message.startsWith('step=catchup-list-full'))?.level).toBe('warning');
    expect(await takeQueued()).toHaveLength(100);
}, 60_000);

test('a resource whose list fails is reported after the others are done', async () => {
    const { fileTransferId } = await h.createTransfer({ size: 10, deliver: false, resourceId: 'another-resource' });
    await h.sim.control.addFault({ endpoint: 'broker.list', status: 403, times: 1 });
    const run = await catchUp();
    expect((run.error as Error).message).toMatch(`Broker catch-up failed for ${RESOURCE}`);
    expect(steps(run.logs)).toContain('catchup-failed');
    const queued = await takeQueued();
    expect(queued.map((e) => e.resourceinstance)).toEqual([fileTransferId]);
    expect(queues.brokerInbound).toBe('broker-inbound');
});
