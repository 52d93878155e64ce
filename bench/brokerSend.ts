/**
 * The sending figure of `npm run bench`: one large file (1 GiB by default) put in broker-outbound
 * and its send request queued, as a case system does; BrokerSender in the host initializes the
 * transfer and streams the blob to the simulator's Broker upload. Printed: the host's peak RSS
 * while it does, its growth over the RSS before (the target is under 100 MiB: the upload streams,
 * so memory must not grow with the file), the time, and whether Broker got the file whole (its MD5).
 */
import { randomUUID } from 'node:crypto';
import { generatedStream } from '../dev/simulator/dataGenerator';
import type { Simulator } from '../dev/simulator';
import { putInOutbox } from '../shared/brokerSend/outbox';
import { queues } from '../shared/names';
import { createStorage } from '../shared/storage';

/** The resource the bench sends on; the simulator is started with it registered. */
export const benchBrokerResource = 'bench-broker';

export const sendingGrowthTargetMiB = 100;

/** What run.ts's host handle offers this figure. */
export interface MeasuredHost {
    peakRssBytes(): number;
    resetPeakRss(): void;
    currentRssBytes(): number;
    nextLine(pattern: RegExp, timeoutMs: number): Promise<{ line: string; at: number }>;
}

export interface SendingFigure {
    seconds: number;
    peakRssMiB: number;
    growthMiB: number;
    whole: boolean;
}

export async function sendLargeFile(
    sim: Simulator,
    host: MeasuredHost,
    storageConnection: string,
    bytes: number,
): Promise<SendingFigure> {
    const storage = createStorage({ AzureWebJobsStorage: storageConnection });
    const blob = `bench/${randomUUID()}/large.bin`;
    // The file is in the outbox before the measured part: a case system's upload is not the host's work.
    const { md5 } = await putInOutbox(storage, blob, generatedStream('bench-send', 0, bytes));
    const { orgNumber } = await sim.control.info();
    const uploaded = host.nextLine(
        new RegExp(`step=broker-uploaded blob=${blob.replace(/[/.]/g, '\\$&')} `),
        30 * 60_000,
    );
    host.resetPeakRss();
    const before = host.currentRssBytes();
    const started = Date.now();
    await storage.enqueueCreating(
        queues.brokerSend,
        JSON.stringify({ blob, resourceId: benchBrokerResource, recipients: [orgNumber], checksum: md5 }),
    );
    const { line, at } = await uploaded;
    const peak = host.peakRssBytes();
    const transfer = /fileTransferId=([0-9a-f-]{36})/.exec(line)?.[1] ?? '';
    const received = await sim.control.contentDigest(transfer);
    console.log(`  host RSS before ${(before / 2 ** 20).toFixed(0)} MiB, peak ${(peak / 2 ** 20).toFixed(0)} MiB`);
    return {
        seconds: (at - started) / 1000,
        peakRssMiB: peak / 2 ** 20,
        growthMiB: (peak - before) / 2 ** 20,
        whole: received.size === bytes && received.md5 === md5,
    };
}

/** The figure's row of the results table. */
export function sendingRow(figure: SendingFigure, mib: string): string[] {
    return [
        'sending',
        `a ${mib} MiB file sent through Broker in ${figure.seconds.toFixed(1)} s${figure.whole ? '' : ' (NOT RECEIVED WHOLE)'}: peak host RSS ${figure.peakRssMiB.toFixed(0)} MiB, ${figure.growthMiB.toFixed(0)} MiB above the host's RSS before it`,
        figure.growthMiB < sendingGrowthTargetMiB && figure.whole
            ? `ok (growth < ${sendingGrowthTargetMiB} MiB)`
            : `OVER ${sendingGrowthTargetMiB} MiB`,
    ];
}
