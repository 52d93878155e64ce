import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { queues } from '../../../shared/names';
import { runAos } from '../../../tools/aos';
import { docsSchemaValidator } from '../../support/receivedSchema';
import { RECIPIENT_A, RECIPIENT_B, SEND_RESOURCE, useSendHarness } from './harness';

/*
 * `npm run aos -- broker send <file> --resource … --recipient …`: the file into broker-outbound, its
 * send request (with its MD5) onto broker-send in the documented shape, which BrokerSender sends;
 * `aos ledger show` then tells how far it got.
 */

jest.setTimeout(60_000);

const harness = useSendHarness();
let dir: string;

beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'aos-broker-cli-'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function aos(...args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runAos(args, {
        env: { AzureWebJobsStorage: harness().h.env.AzureWebJobsStorage },
        cwd: dir,
        out: (line) => out.push(line),
        err: (line) => err.push(line),
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
}

it('puts the file in broker-outbound and a send request on broker-send, which BrokerSender sends', async () => {
    const s = harness();
    const content = 'årsrapport;2026\n'.repeat(100);
    writeFileSync(join(dir, 'årsrapport.csv'), content);
    const md5 = createHash('md5').update(content).digest('hex');
    const sent = await aos(
        'broker',
        'send',
        'årsrapport.csv',
        '--resource',
        SEND_RESOURCE,
        '--recipient',
        RECIPIENT_A,
        '--recipient',
        RECIPIENT_B,
        '--reference',
        'sak 2026/7',
        '--property',
        'saksnummer=2026/7',
        '--json',
    );
    expect(sent).toMatchObject({ code: 0, err: '' });
    const request = JSON.parse(sent.out) as Record<string, unknown>;
    expect(request).toMatchObject({
        resourceId: SEND_RESOURCE,
        recipients: [RECIPIENT_A, RECIPIENT_B],
        fileName: 'årsrapport.csv',
        sendersFileTransferReference: 'sak 2026/7',
        propertyList: { saksnummer: '2026/7' },
        checksum: md5,
    });
    expect(request.blob).toMatch(/^\d{4}-\d\d-\d\d\/[0-9a-f-]{36}\/årsrapport\.csv$/);
    const properties = await s.outbox.getBlobClient(request.blob as string).getProperties();
    expect(Buffer.from(properties.contentMD5!).toString('hex')).toBe(md5);
    const queued = (await s.h.peek(queues.brokerSend)).map((text) => JSON.parse(text) as unknown);
    expect(queued).toContainEqual(request);
    expect(docsSchemaValidator('broker-send.schema.json')(request)).toEqual([]);

    const run = await s.send(queued.find((q) => (q as { blob: string }).blob === request.blob));
    expect(run.outcome).toMatchObject({ outcome: 'sent' });
    const id = (run.outcome as { fileTransferId: string }).fileTransferId;
    expect(await s.h.sim.control.contentDigest(id)).toMatchObject({ md5 });
    const shown = await aos('ledger', 'show', id);
    expect(shown.code).toBe(0);
    expect(shown.out.split('\n')[0]).toBe(`sent file ${id}  ${SEND_RESOURCE}  ${String(request.blob)}`);
    expect(shown.out).toMatch(/state {9}(processing|published, confirmed 0\/2)/);
});

it('refuses, before putting anything anywhere, a request BrokerSender would refuse', async () => {
    writeFileSync(join(dir, 'x.txt'), 'x');
    const bad = await aos('broker', 'send', 'x.txt', '--resource', SEND_RESOURCE, '--recipient', '12345');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/recipient "12345" is not an organisation number/);
    expect((await aos('broker', 'send', 'missing.txt', '--resource', 'r', '--recipient', RECIPIENT_A)).code).toBe(1);
    expect((await aos('broker', 'send', 'x.txt', '--recipient', RECIPIENT_A)).err).toMatch(/--resource is required/);
});
