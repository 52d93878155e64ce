import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { startAzuriteProcess, type AzuriteProcess } from '../../../dev/azurite';
import { freePorts } from '../../../dev/ports';
import { connectionStringFor } from '../../../dev/storageConnection';
import { type Simulator } from '../../../dev/simulator/simulator';
import {
    clientRegistration,
    createClientCredentials,
    startTestSimulator,
    clientSettings,
} from '../../support/simulator';
import { lines, startProcessorChild } from './child';
import { BROKER_SCOPES, ME, RESOURCE, SENDER } from './harness';

/*
 * THE heavy Broker test: a 1 GiB file (BROKER_MEMORY_MIB overrides the size) goes through the
 * compiled BrokerProcessor in a child process of its own, whose RSS is sampled; memory must stay
 * flat (peak growth over the pre-invocation RSS well under 256 MB). Azurite persists to a temp
 * folder on disk, so that the gigabyte is not held in its memory.
 */

const MiB = 1024 * 1024;
const sizeMiB = Number(process.env.BROKER_MEMORY_MIB ?? 1024);
const size = sizeMiB * MiB;
const LIMIT = 256 * 1000 * 1000;

let sim: Simulator;
let azurite: AzuriteProcess;
let folder: string;
let env: Record<string, string>;

beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'aos-broker-memory-'));
    const [blobPort, queuePort, tablePort] = await freePorts(3);
    const ports = { blobPort, queuePort, tablePort };
    [azurite, sim] = await Promise.all([
        startAzuriteProcess({ ...ports, location: folder }),
        startTestSimulator({ orgNumber: ME }),
    ]);
    const creds = createClientCredentials();
    await sim.control.registerClient(clientRegistration(creds, BROKER_SCOPES));
    env = {
        AzureWebJobsStorage: connectionStringFor(ports),
        ...clientSettings(sim, creds, BROKER_SCOPES),
        BrokerResources: RESOURCE,
    };
    await BlobServiceClient.fromConnectionString(env.AzureWebJobsStorage)
        .getContainerClient('broker')
        .createIfNotExists();
}, 60_000);

afterAll(async () => {
    await Promise.all([sim?.stop(), azurite?.stop()]);
    if (folder) rmSync(folder, { recursive: true, force: true });
});

async function publishedEvent(fileTransferId: string) {
    const event = (await sim.control.listEvents()).find(
        (e) => e.resourceinstance === fileTransferId && (e.data as { Role?: string }).Role === 'Recipient',
    );
    if (!event) throw new Error(`no event for ${fileTransferId}`);
    return event;
}

test(`a ${sizeMiB} MiB file is stored and confirmed with flat memory`, async () => {
    const started = Date.now();
    // A small file first, so that the measured invocation starts warm (token cached, modules loaded).
    const warm = await sim.control.createFileTransfer({
        resourceId: RESOURCE,
        fileName: 'warm.txt',
        content: 'warm',
        recipients: [ME],
        sender: SENDER,
    });
    const big = await sim.control.createFileTransfer({
        resourceId: RESOURCE,
        fileName: 'stor fil.bin',
        size,
        seed: 'memory-1',
        recipients: [ME],
        sender: SENDER,
    });
    const child = startProcessorChild(env, [
        await publishedEvent(warm.fileTransferId),
        await publishedEvent(big.fileTransferId),
    ]);
    const code = await child.exited;
    const report = `${child.output()}\n${lines(child.logs)}`;
    expect({ code, report }).toMatchObject({ code: 0 });
    expect(child.invocations.map((i) => i.error ?? 'ok')).toEqual(['ok', 'ok']);

    const measured = child.invocations[1];
    const growth = Math.max(measured.peakRss, measured.maxRss) - measured.baselineRss;
    const seconds = (Date.now() - started) / 1000;
    console.log(
        `BrokerProcessor, ${sizeMiB} MiB: RSS before ${(measured.baselineRss / MiB).toFixed(0)} MiB, ` +
            `peak ${(Math.max(measured.peakRss, measured.maxRss) / MiB).toFixed(0)} MiB, ` +
            `growth ${(growth / MiB).toFixed(0)} MiB, ${seconds.toFixed(1)} s (${(sizeMiB / seconds).toFixed(0)} MiB/s)`,
    );
    expect(growth).toBeLessThan(LIMIT / 2);

    const blob = BlobServiceClient.fromConnectionString(env.AzureWebJobsStorage)
        .getContainerClient('broker')
        .getBlobClient(`${RESOURCE}/${big.fileTransferId}/stor fil.bin`);
    const properties = await blob.getProperties();
    expect(properties.contentLength).toBe(size);
    // The simulator's checksum is the MD5 of the generated content; the processor checked it while streaming.
    expect(Buffer.from(properties.contentMD5!).toString('hex')).toBe(big.overview.checksum);
    expect(sim.counters().contentBytes[big.fileTransferId]).toBe(size);
    expect(sim.counters().requests['broker.confirm']).toEqual({ '204': 2 });
}, 240_000);
