import { DEFAULT_CHUNK_BYTES } from '../../../shared/broker/download';
import { lines, startProcessorChild } from './child';
import { RESOURCE, startBrokerHarness, type BrokerHarness } from './harness';

/*
 * Resume across invocations for real: the BrokerProcessor runs in a child process that is
 * SIGKILLed in the middle of a download (as a worker that crashes or is recycled); the next
 * invocation, in a fresh process, continues from the blocks the first one committed.
 */

const MiB = 1024 * 1024;
const CHUNK = DEFAULT_CHUNK_BYTES;

let h: BrokerHarness;

beforeAll(async () => {
    h = await startBrokerHarness();
}, 60_000);

afterAll(() => h.stop());

test('a download killed mid-stream is continued by the next invocation from what was committed', async () => {
    const size = 40 * MiB + 4321;
    const { fileTransferId, overview } = await h.createTransfer({ size, seed: 'crash-1', fileName: 'stor fil.bin' });
    const event = await h.recipientEvent(fileTransferId);
    // The first response breaks after 2.5 blocks; the resumed request then hangs, and the process is killed.
    await h.sim.control.addFault({ endpoint: 'broker.download', truncateAfterBytes: 2 * CHUNK + 4 * MiB, times: 1 });
    await h.sim.control.addFault({ endpoint: 'broker.download', latencyMs: 5_000, times: 1 });

    const first = startProcessorChild(h.env, [event]);
    try {
        await first.waitForLog(/^step=download-retry /);
        await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
        await first.kill();
    }
    expect(first.invocations).toEqual([]);
    const blob = h.container.getBlobClient(`${RESOURCE}/${fileTransferId}/stor fil.bin`);
    const partial = await blob.getProperties();
    expect(partial.contentLength).toBe(2 * CHUNK);
    expect(partial.metadata?.partial).toBe('true');
    expect(await h.container.getBlobClient(`${RESOURCE}/${fileTransferId}/filetransfer.json`).exists()).toBe(false);

    const second = startProcessorChild(h.env, [event]);
    expect({ code: await second.exited, output: second.output() }).toMatchObject({ code: 0 });
    expect(second.invocations).toHaveLength(1);
    expect(second.invocations[0].error).toBeUndefined();
    const resumed = second.logs.find((log) => log.line.startsWith('step=download-resume'));
    expect(resumed?.line).toContain(`fromBytes=${2 * CHUNK}`);
    const stored = second.logs.find((log) => log.line.startsWith('step=stored'))?.line ?? lines(second.logs);
    expect(stored).toContain(`downloadedBytes=${size - 2 * CHUNK}`);
    expect(stored).toContain(`md5=${String(overview.checksum)}`);

    const complete = await blob.getProperties();
    expect(complete.contentLength).toBe(size);
    expect(Buffer.from(complete.contentMD5!).toString('hex')).toBe(overview.checksum);
    expect(complete.metadata?.partial).toBeUndefined();
    // Bytes served by Broker over both invocations: the file plus at most the one block being filled.
    const served = h.sim.counters().contentBytes[fileTransferId];
    expect(served).toBeLessThanOrEqual(size + CHUNK);
    expect(h.sim.counters().requests['broker.confirm']).toEqual({ '204': 1 });
}, 90_000);
