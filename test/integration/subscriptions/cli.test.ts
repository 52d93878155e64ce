import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runAos } from '../../../tools/aos';
import { containers } from '../../../shared/names';
import { repoRoot } from '../../support/host';
import { startReceiver, waitUntil, type Receiver } from '../../support/simulator';
import { blobNames, calls, getBlob, putBlob, startStack, type Stack } from './stack';

/*
 * `npm run aos -- subscriptions`: the same operations as the functions, from a terminal, configured from
 * local.settings.json in the current folder with the environment winning.
 */

jest.setTimeout(30_000);

let stack: Stack;
let receiver: Receiver;
let dir: string;

beforeAll(async () => {
    stack = await startStack();
    receiver = await startReceiver();
    dir = mkdtempSync(join(tmpdir(), 'aos-cli-'));
    // Everything but the storage connection from local.settings.json; that one from the environment.
    const { AzureWebJobsStorage: _storage, ...values } = stack.env;
    writeFileSync(
        join(dir, 'local.settings.json'),
        JSON.stringify({
            IsEncrypted: false,
            Values: { ...values, AzureWebJobsStorage: 'UseDevelopmentStorage=true' },
        }),
    );
});

afterAll(async () => {
    await receiver?.stop();
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
});

async function cli(...args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    // The token provider's line about the key it loaded (its kid and certificate expiry), kept apart.
    const key: string[] = [];
    const code = await runAos(['subscriptions', ...args], {
        env: { AzureWebJobsStorage: stack.env.AzureWebJobsStorage },
        cwd: dir,
        out: (line) => out.push(line),
        err: (line) => (line.startsWith('step=signing-key ') ? key : err).push(line),
    });
    return { code, out: out.join('\n'), err: err.join('\n'), key };
}

function file(name: string, value: unknown): string {
    const path = join(dir, name);
    writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
    return path;
}

const request = () => ({
    endPoint: `${receiver.url}/api/eventsreceiver?code=cli-key`,
    sourceFilter: `${stack.sim.appsUrl}/ttd/apps-test`,
    typeFilter: 'app.instance.process.completed',
});

it('add validates, registers and writes active-subscriptions/{name}.json; list shows it; remove deletes both', async () => {
    const added = await cli('add', file('ttd-apps-test.json', request()));
    expect(added.err).toBe('');
    expect(added.key).toEqual([
        expect.stringMatching(/^step=signing-key certificateExpiresAt=\S+ certificateExpiresInDays=/),
    ]);
    expect(added.code).toBe(0);
    const [subscription] = await stack.sim.control.listSubscriptions();
    expect(added.out).toContain(
        `Registered subscription ${subscription.id} as active-subscriptions/ttd-apps-test.json`,
    );
    expect(added.out).not.toContain('cli-key');
    const stored = JSON.parse(
        (await getBlob(stack.container(containers.activeSubscriptions), 'ttd-apps-test.json'))!,
    ) as unknown;
    expect(stored).toMatchObject({ id: subscription.id, typeFilter: 'app.instance.process.completed' });
    await waitUntil(async () => ((await stack.sim.control.listSubscriptions())[0]?.validated ? true : undefined));

    const named = await cli(
        'add',
        file('x.json', { ...request(), typeFilter: 'app.instance.created' }),
        '--name',
        'created',
    );
    expect(named.code).toBe(0);
    expect(await blobNames(stack.container(containers.activeSubscriptions))).toEqual([
        'created.json',
        'ttd-apps-test.json',
    ]);

    await putBlob(
        stack.container(containers.failedSubscriptions),
        'old.json',
        JSON.stringify({ operation: 'add', error: { message: 'it was bad' } }),
    );
    const listed = await cli('list');
    expect(listed.code).toBe(0);
    expect(listed.out).toContain('Altinn has 2 subscription(s)');
    expect(listed.out).toMatch(
        new RegExp(`id=${subscription.id} validated=true .*blob=active-subscriptions/ttd-apps-test.json`),
    );
    expect(listed.out).toContain('Failed: failed-subscriptions/old.json add: it was bad');
    expect(listed.out).not.toContain('cli-key');

    const byName = await cli('remove', 'ttd-apps-test');
    expect(byName.code).toBe(0);
    expect(byName.out).toContain(`Deleted subscription ${subscription.id} in Altinn.`);
    expect(byName.out).toContain('Removed active-subscriptions/ttd-apps-test.json.');

    const created = JSON.parse((await getBlob(stack.container(containers.activeSubscriptions), 'created.json'))!) as {
        id: number;
    };
    const byId = await cli('remove', String(created.id));
    expect(byId.code).toBe(0);
    expect(await stack.sim.control.listSubscriptions()).toEqual([]);
    expect(await blobNames(stack.container(containers.activeSubscriptions))).toEqual([]);

    const again = await cli('remove', String(created.id));
    expect(again.code).toBe(0);
    expect(again.out).toContain('already gone in Altinn');
});

it('a bad request is refused with the reason (exit 1) and Altinn receives no call', async () => {
    await stack.sim.control.reset();
    const result = await cli(
        'add',
        file('bad.json', { ...request(), sourceFilter: `${stack.sim.appsUrl}/ttd/apps-test/` }),
    );
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/^Refused: sourceFilter .* without a trailing slash/);
    expect(calls(stack.sim, 'events.subscriptions')).toEqual({});
    expect(await blobNames(stack.container(containers.failedSubscriptions))).not.toContain('bad.json');

    const altinnSaysNo = await cli(
        'add',
        file('other.json', { ...request(), sourceFilter: `${stack.sim.appsUrl}/skd/x` }),
    );
    expect(altinnSaysNo.code).toBe(1);
    expect(altinnSaysNo.err).toMatch(/^Refused: Altinn answered 403: Not authorized/);
});

it('a transient failure exits 2; usage errors exit 1; a missing setting is named', async () => {
    await stack.sim.control.addFault({ endpoint: 'events.subscriptions', status: 503 });
    const down = await cli('add', file('later.json', request()));
    expect(down.code).toBe(2);
    expect(down.err).toMatch(/Failed: Altinn answered 503/);
    await stack.sim.control.clearFaults();

    expect((await cli()).code).toBe(1);
    expect((await cli('remove')).err).toContain('Usage: npm run aos -- subscriptions');
    expect((await cli('frobnicate', 'x')).code).toBe(1);
    expect((await cli('remove', 'no-such-name')).err).toMatch(/Refused: .*no active-subscriptions\/no-such-name.json/);

    const empty = mkdtempSync(join(tmpdir(), 'aos-cli-empty-'));
    const out: string[] = [];
    const code = await runAos(['subscriptions', 'list'], {
        env: {},
        cwd: empty,
        out: () => undefined,
        err: (line) => out.push(line),
    });
    rmSync(empty, { recursive: true, force: true });
    expect(code).toBe(1);
    expect(out.join('\n')).toMatch(/Configuration: Setting MaskinportenScopes: is required/);
});

it('runs as `node dist/tools/aos.js subscriptions` (what npm run aos -- subscriptions starts)', async () => {
    const entry = join(repoRoot, 'dist', 'tools', 'aos.js');
    if (!existsSync(entry)) throw new Error(`${entry} is missing: run npm run build first.`);
    const { stdout } = await promisify(execFile)(process.execPath, [entry, 'subscriptions', 'list'], {
        cwd: dir,
        env: { ...process.env, AzureWebJobsStorage: stack.env.AzureWebJobsStorage },
    });
    expect(stdout).toMatch(/^Altinn has \d+ subscription\(s\) for this owner:/);
});
