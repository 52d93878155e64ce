import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containers, poisonQueueOf, queues } from '../../../shared/names';
import { createStorage, type Storage } from '../../../shared/storage';
import type { StatusReport } from '../../../shared/status';
import { runAos } from '../../../tools/aos';
import { startAzurite, type AzuriteInstance } from '../../support/azurite';

/*
 * `npm run aos -- status`: the status page's report in a terminal, from the storage of the
 * settings (here AzureWebJobsStorage in the environment, in a folder without local.settings.json).
 */

jest.setTimeout(30_000);

let azurite: AzuriteInstance;
let storage: Storage;
let dir: string;

beforeAll(async () => {
    azurite = await startAzurite();
    storage = createStorage({ AzureWebJobsStorage: azurite.connectionString });
    dir = mkdtempSync(join(tmpdir(), 'aos-status-cli-'));
    const poison = storage.queue(poisonQueueOf(queues.brokerInbound));
    await poison.createIfNotExists();
    await storage.enqueue(poisonQueueOf(queues.brokerInbound), { id: 'e1', type: 'no.altinn.broker.published' });
    const failed = storage.container(containers.failedSubscriptions);
    await failed.createIfNotExists();
    const record = JSON.stringify({ operation: 'remove', name: 'old', error: { message: 'Altinn answered 403' } });
    await failed.getBlockBlobClient('old.json').upload(record, Buffer.byteLength(record));
});

afterAll(async () => {
    await azurite?.stop();
    rmSync(dir, { recursive: true, force: true });
});

async function aos(...args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runAos(['status', ...args], {
        env: { AzureWebJobsStorage: azurite.connectionString },
        cwd: dir,
        out: (line) => out.push(line),
        err: (line) => err.push(line),
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
}

it('prints what needs attention first, then each part', async () => {
    const { code, out, err } = await aos();
    expect(code).toBe(0);
    const lines = out.split('\n');
    expect(lines[2]).toBe('Needs attention:');
    expect(lines).toContain('  - 1 message(s) in broker-inbound-poison: see npm run aos -- poison list');
    expect(lines).toContain('  - Subscription request old was refused: Altinn answered 403');
    expect(lines).toContain('  broker-inbound-poison: 1');
    expect(lines).toContain('  refused old (remove, -): Altinn answered 403');
    // Without complete settings it says so on stderr and shows what storage holds.
    expect(err).toMatch(/^\(settings not complete, showing the apps the ledger has seen: /);
});

it('prints the report as JSON with --json, and refuses arguments', async () => {
    const { code, out } = await aos('--json');
    expect(code).toBe(0);
    const report = JSON.parse(out) as StatusReport;
    expect(report.poisonQueues).toContainEqual({
        queue: 'broker-inbound',
        poisonQueue: 'broker-inbound-poison',
        messages: 1,
    });
    const wrong = await aos('everything');
    expect(wrong.code).toBe(1);
    expect(wrong.err).toContain('status takes no arguments, not "everything".');
});
