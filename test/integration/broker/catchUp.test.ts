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
            expect.stringContaining(`resourceId=${RESOURCE} recipientStatus=Initialized page=1 count=1`),
            expect.stringContaining(`resourceId=${RESOURCE} recipientStatus=DownloadStarted page=1 count=1`),
        ]),
    );

    for (const message of queued) {
        const run = await h.process(message);
        expect(run.outcome).toMatchObject({ outcome: 'confirmed' });
    }
    expect(await h.container.getBlobClient(`${RESOURCE}/${missed.fileTransferId}/missed.xml`).exists()).toBe(true);

    const second = await catchUp();
    // another-resource (in BrokerResources) has no transfers, so Broker does not know it: refused, skipped.
    expect(second.result).toEqual({
        queued: [],
        skipped: [],
        failedResources: [],
        refusedResources: ['another-resource'],
    });
    expect(await takeQueued()).toEqual([]);
});

test('a transfer Broker still lists but that we stored and confirmed is skipped', async () => {
    const { fileTransferId } = await h.createTransfer({ size: 10, deliver: false });
    await h.container
        .getBlockBlobClient(`${RESOURCE}/${fileTransferId}/filetransfer.json`)
        .upload('{}', 2, { metadata: { confirmed: new Date().toISOString() } });
    const run = await catchUp();
    expect(run.result).toMatchObject({ queued: [], skipped: [fileTransferId], failedResources: [] });
    expect(steps(run.logs)).toContain('catchup-skipped');
});

test('100 newer transfers that never get confirmed do not hide an older one: the list is walked oldest first', async () => {
    const create = (fileName: string) =>
        h.sim.control.createFileTransfer({
            resourceId: RESOURCE,
            fileName,
            content: 'x',
            recipients: [ME],
            checksum: false,
            publish: false,
        });
    const oldest = await create('oldest');
    const newer: string[] = [];
    for (let i = 0; i < 120; i++) {
        // Apart in time, as real transfers are (Broker's times have microseconds, the simulator's milliseconds).
        await new Promise((resolve) => setTimeout(resolve, 2));
        newer.push((await create(`f${i}`)).fileTransferId);
    }
    const run = await catchUp();
    expect(run.error).toBeUndefined();
    expect(new Set(run.result!.queued)).toEqual(new Set([oldest.fileTransferId, ...newer]));
    expect(run.result!.queued).toHaveLength(121);
    expect(run.result!.queued[0]).toBe(oldest.fileTransferId);
    const listed = run.logs.filter((l) =>
        l.message.startsWith(`step=catchup-listed resourceId=${RESOURCE} recipientStatus=Initialized`),
    );
    expect(listed.map((l) => /page=(\d+) count=(\d+)/.exec(l.message)!.slice(1))).toEqual([
        ['1', '100'],
        // The second page starts just before the last of the first, which it lists again.
        ['2', '22'],
    ]);
    expect(await takeQueued()).toHaveLength(121);
}, 60_000);

test('a resource Broker refuses is logged at error naming BrokerResources and skipped; another failure fails the run', async () => {
    await h.createTransfer({ size: 10, deliver: false });
    const { fileTransferId } = await h.createTransfer({ size: 10, deliver: false, resourceId: 'another-resource' });
    await h.sim.control.addFault({ endpoint: 'broker.list', status: 403, times: 1 });
    const refused = await catchUp();
    expect(refused.error).toBeUndefined();
    expect(refused.result).toMatchObject({ refusedResources: [RESOURCE], failedResources: [] });
    const line = refused.logs.find((l) => l.message.startsWith('step=catchup-no-access'))!;
    expect(line.level).toBe('error');
    expect(line.message).toContain(`resourceId=${RESOURCE} setting=BrokerResources status=403`);
    expect((await takeQueued()).map((e) => e.resourceinstance)).toEqual([fileTransferId]);

    await h.sim.control.clearFaults();
    await h.sim.control.addFault({ endpoint: 'broker.list', status: 400, times: 1 });
    const failed = await catchUp();
    expect((failed.error as Error).message).toMatch(`Broker catch-up failed for ${RESOURCE}`);
    expect(steps(failed.logs)).toContain('catchup-failed');
    expect((await takeQueued()).map((e) => e.resourceinstance)).toEqual([fileTransferId]);
    expect(queues.brokerInbound).toBe('broker-inbound');
});
