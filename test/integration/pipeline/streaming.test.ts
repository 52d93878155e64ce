import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createEventsProcessor } from '../../../functions/eventsProcessor';
import { generatedDigest } from '../../../dev/simulator/dataGenerator';
import { queues } from '../../../shared/names';
import { blobSha256, eventOf, fieldsOf, startHarness, steps, type Harness } from './harness';

/*
 * A large element is streamed into its blob, not held in memory. Measured coarsely, in the test
 * process (which also holds the simulator serving the file): memory still held after a full GC,
 * sampled during the download, must stay far below the file size, and so must RSS growth (a
 * looser bound: RSS also holds garbage not yet collected). The thorough measurement is the
 * benchmark's; this guards against buffering creeping in.
 */

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const retained = (): number => {
    gc();
    const usage = process.memoryUsage();
    return usage.heapUsed + usage.arrayBuffers;
};

jest.setTimeout(90_000);

const size = 50 * 1024 * 1024;
let h: Harness;

beforeAll(async () => {
    h = await startHarness({ HttpRetryBudgetSeconds: '5' });
});

afterAll(() => h?.stop());

test('a 50 MB element is stored with the right hash while memory stays far below its size', async () => {
    const processor = createEventsProcessor(() => h.services);
    // Warm up every code path (token, pools, clients) so that the measurement sees the download alone.
    const warm = await h.sim.control.createInstance({
        app: 'big-app',
        process: 'completed',
        publish: true,
        dataElements: [{ dataType: 'small', size: 1_000_000, seed: 'warm' }],
    });
    await h.enqueue(eventOf(warm));
    expect((await h.deliver(queues.eventsInbound, processor)).error).toBeUndefined();

    const created = await h.sim.control.createInstance({
        app: 'big-app',
        process: 'completed',
        publish: true,
        dataElements: [{ dataType: 'big', contentType: 'application/zip', filename: 'big.zip', size, seed: 'big' }],
    });
    await h.enqueue(eventOf(created));
    const baseline = { retained: retained(), rss: process.memoryUsage().rss };
    const peak = { ...baseline };
    const sample = () => {
        peak.rss = Math.max(peak.rss, process.memoryUsage().rss);
        peak.retained = Math.max(peak.retained, retained());
    };
    const sampler = setInterval(sample, 100);
    const run = await h.deliver(queues.eventsInbound, processor);
    clearInterval(sampler);

    expect(run.error).toBeUndefined();
    const element = created.dataElements[0];
    expect(fieldsOf(steps(run.logs, 'data-stored')[0].message).bytes).toBe(String(size));
    const growth = { retained: peak.retained - baseline.retained, rss: peak.rss - baseline.rss };
    expect(growth.retained).toBeLessThan(size / 2);
    expect(growth.rss).toBeLessThan(size);
    const name = `ttd/big-app/${created.instanceGuid}/data/${element.id}`;
    const digest = await generatedDigest('big', size);
    expect(await blobSha256(h.container, name)).toBe(digest);
    // Hashed on the way in, and staged as 4 MiB blocks (not one Put Blob) committed with the hash.
    const blob = h.container.getBlockBlobClient(name);
    expect((await blob.getProperties()).metadata?.sha256).toBe(digest);
    const { committedBlocks } = await blob.getBlockList('committed');
    expect(committedBlocks?.map((b) => b.size)).toEqual([...Array<number>(12).fill(4 * 1024 * 1024), 2 * 1024 * 1024]);
});
