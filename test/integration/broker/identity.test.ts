import { ME, RESOURCE, useBrokerHarness } from './harness';
import { bearer } from '../../support/simulator';

/*
 * Whether a Broker confirmation is ours is decided by who we are to Broker (the organisation of our
 * own token, or BrokerOrgNumber), never by the event's subject: Broker addresses each event
 * to one party (AltinnEventBus: subject = that party's organisation URN), and the downloadconfirmed
 * it sends the sender carries the sender's subject, not the recipient that confirmed
 * (ConfirmDownloadHandler). An event about another party must not make us take its status for ours.
 */

const OTHER_RECIPIENT = '910753614';
const fast = { chunkBytes: 64 * 1024, retryDelayMs: () => 5 };

const harness = useBrokerHarness();

/** ME downloads and confirms through Broker's own API, as another system of ours would. */
async function confirmAsMe(fileTransferId: string): Promise<void> {
    const h = harness();
    const token = await h.sim.control.issueAltinnToken({ orgNumber: ME, scopes: ['altinn:broker.read'] });
    const base = `${h.sim.platformUrl}/broker/api/v1/filetransfer/${fileTransferId}`;
    const download = await fetch(`${base}/download`, { headers: bearer(token) });
    expect(download.status).toBe(200);
    await download.arrayBuffer();
    const confirm = await fetch(`${base}/confirmdownload`, { method: 'POST', headers: bearer(token) });
    expect(confirm.status).toBe(204);
}

it('takes a published event naming another recipient as about our own status: already confirmed by us, nothing fetched', async () => {
    const h = harness();
    const { fileTransferId, events } = await h.createTransfer({ size: 5000, recipients: [ME, OTHER_RECIPIENT] });
    await confirmAsMe(fileTransferId);
    const served = h.sim.counters().contentBytes[fileTransferId];
    const forOther = events.find(
        (event) => event.subject === `urn:altinn:organization:identifier-no:${OTHER_RECIPIENT}`,
    );
    expect(forOther).toBeDefined();

    const run = await h.process(forOther, fast);
    expect(run.error).toBeUndefined();
    expect(run.outcome).toEqual({ outcome: 'skipped', reason: 'already-confirmed', fileTransferId });
    expect(h.sim.counters().contentBytes[fileTransferId]).toBe(served);
    expect(await h.container.getBlobClient(`${RESOURCE}/${fileTransferId}/filetransfer.json`).exists()).toBe(false);
});

it('asks Broker about the configured organisation number when BrokerOrgNumber is set', async () => {
    const h = harness();
    const { fileTransferId, events } = await h.createTransfer({ size: 500, recipients: [ME, OTHER_RECIPIENT] });
    // Our own recipient event, but the configured number says we are OTHER_RECIPIENT, who has not confirmed:
    // the processor downloads, and Broker (which decides by the token) records ME's confirmation.
    const ours = events.find((event) => event.subject === `urn:altinn:organization:identifier-no:${ME}`)!;
    await confirmAsMe(fileTransferId);
    const run = await h.processWith({ BrokerOrgNumber: OTHER_RECIPIENT }, ours, fast);
    expect(run.error).toBeUndefined();
    expect(run.outcome).toMatchObject({ outcome: 'confirmed', fileTransferId });
});
