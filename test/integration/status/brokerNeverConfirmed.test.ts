import { ledgerOf } from '../../../shared/ledger';
import { formatEntry } from '../../../tools/commands/ledger';
import { gatherStatus, renderStatusHtml, renderStatusText } from '../../../shared/status';
import { RESOURCE, useBrokerHarness } from '../broker/harness';

/*
 * Broker's `no.altinn.broker.fileneverconfirmeddownloaded` for us (the file expired in Broker and we
 * never confirmed it) goes from the BrokerProcessor, through the ledger, to the status page: the
 * JSON, the HTML and the `aos status` text name the file, its resource and when Broker said so.
 */

jest.setTimeout(60_000);

const harness = useBrokerHarness();
const fast = { retryDelayMs: () => 5 };

/** The event Broker sends the recipient at the transfer's expiry (altinn-broker's PurgeFileTransferHandler, on expiry). */
async function neverConfirmedEvent(fileTransferId: string, time: string): Promise<Record<string, unknown>> {
    const published = await harness().recipientEvent(fileTransferId);
    return { ...published, id: crypto.randomUUID(), type: 'no.altinn.broker.fileneverconfirmeddownloaded', time };
}

async function status() {
    const h = harness();
    return gatherStatus({ config: h.config, storage: h.storage });
}

it('lists a file Broker purged without our confirmation, in JSON, HTML and text, once however often it is reported', async () => {
    const h = harness();
    const { fileTransferId } = await h.createTransfer({ size: 10 });
    const time = new Date(Date.now() - 2 * 3600_000).toISOString();
    const before = await status();
    expect(before.neverConfirmedFiles).toEqual([]);

    const event = await neverConfirmedEvent(fileTransferId, time);
    for (const message of [event, event]) {
        const run = await h.process(message, fast);
        expect(run.outcome).toEqual({ outcome: 'never-confirmed', fileTransferId });
        expect(run.logs.map((log) => log.message)).not.toContainEqual(expect.stringContaining('ledger-write-failed'));
    }

    const report = await status();
    expect(report.unavailable).toEqual([]);
    expect(report.neverConfirmedFiles).toEqual([
        { fileTransferId, resourceId: RESOURCE, at: time, stored: false, poisoned: false },
    ]);
    expect(report.attention).toContainEqual(
        expect.stringMatching(
            new RegExp(`^Broker file ${fileTransferId} \\(${RESOURCE}\\) expired in Broker at ${time} `),
        ),
    );
    // Not counted as received: the event says the file is gone, not that it arrived.
    expect(report.brokerResources.find((scope) => scope.scope === RESOURCE)?.received).toBe(0);

    const html = renderStatusHtml(report);
    expect(html).toContain('<h2>Needs attention</h2>');
    const row = new RegExp(
        `<tr class="bad"><td>${fileTransferId}</td><td>${RESOURCE}</td><td>${time.slice(0, 16).replace('T', ' ')} UTC</td><td>no</td>`,
    );
    expect(html).toMatch(row);

    const text = renderStatusText(report);
    expect(text).toContain(
        `  ${fileTransferId} (${RESOURCE}) at ${time.slice(0, 16).replace('T', ' ')} UTC: stored no, in poison no`,
    );

    // npm run aos -- ledger show <fileTransferId>
    const [entry] = await ledgerOf(h.storage).find(fileTransferId);
    expect(formatEntry(entry)).toContain(`  never confirmed  ${time}  (Broker purged it without our confirmation)`);
});

it('does not list a file we stored and confirmed, nor one Broker reported longer ago than the window', async () => {
    const h = harness();
    const confirmed = await h.createTransfer({ size: 10 });
    const stored = await h.process(await h.recipientEvent(confirmed.fileTransferId), fast);
    expect(stored.outcome).toMatchObject({ outcome: 'confirmed' });
    const old = await h.createTransfer({ size: 10 });

    // A late or stray report about a file we confirmed, and one from 31 days ago.
    await h.process(await neverConfirmedEvent(confirmed.fileTransferId, new Date().toISOString()), fast);
    await h.process(
        await neverConfirmedEvent(old.fileTransferId, new Date(Date.now() - 31 * 86_400_000).toISOString()),
        fast,
    );

    const listed = (await status()).neverConfirmedFiles.map((file) => file.fileTransferId);
    expect(listed).not.toContain(confirmed.fileTransferId);
    expect(listed).not.toContain(old.fileTransferId);
});
