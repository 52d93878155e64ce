import { containers } from '../../../shared/names';
import { startHostProcess, repoRoot, type HostProcess } from '../../support/host';
import { blobNames, getBlob, startStack, type Stack } from '../subscriptions/stack';
import {
    forgedLines,
    hostWait,
    inputBytes,
    rawControlCharacters,
    subscriptionCases,
    type SubscriptionCase,
} from './corpus';

/*
 * The bad-input corpus for subscription files (test/fixtures/bad-input/subscriptions.json): each
 * file is dropped into add-subscriptions or remove-subscriptions, EventsSubscriber and
 * EventsDeSubscriber run in the local Functions host (a child process running the app's real
 * functions), and each file must end in failed-subscriptions/{name}.json with a readable reason,
 * without a single call to Altinn's subscriptions API. Needs `npm run build`.
 */

jest.setTimeout(60_000);

const functionKey = 'bad-input-key';
let stack: Stack;
let host: HostProcess;
let vars: Record<string, string>;

interface FailedRecord {
    operation: string;
    name: string;
    request: unknown;
    error: { status?: number; message: string };
    failedAt: string;
}

const failed = new Map<string, FailedRecord>();

beforeAll(async () => {
    stack = await startStack({ LocalHostFunctionKey: functionKey });
    const apps = new URL(stack.sim.appsUrl);
    vars = { apps: stack.sim.appsUrl, appsWithUser: `${apps.protocol}//ttd.apps.tt02.altinn.no@${apps.host}` };
    host = await startHostProcess({ appRoot: repoRoot, env: stack.env, startTimeoutMs: 60_000 });

    for (const testCase of subscriptionCases) {
        const body = inputBytes(testCase, vars);
        const container = stack.container(testCase.container);
        await container.createIfNotExists();
        await container.getBlockBlobClient(testCase.blob).upload(body, body.length);
    }
    for (const timer of ['EventsSubscriber', 'EventsDeSubscriber']) {
        const response = await fetch(`${host.url}/admin/functions/${timer}?code=${functionKey}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{"input":""}',
        });
        expect(response.status).toBe(202);
    }
    for (const operation of ['add', 'remove']) {
        await hostWait(host, host.waitForOutput(new RegExp(`step=subscriptions-run operation=${operation} `), 30_000));
    }
    const failedContainer = stack.container(containers.failedSubscriptions);
    for (const name of await blobNames(failedContainer)) {
        failed.set(name, JSON.parse((await getBlob(failedContainer, name))!) as FailedRecord);
    }
}, 120_000);

afterAll(async () => {
    await host?.stop(10_000);
    await stack?.stop();
});

test.each(subscriptionCases.map((testCase) => [testCase.name, testCase] as const))(
    '%s: moved to failed-subscriptions with a readable reason',
    (_name, testCase: SubscriptionCase) => {
        const record = failed.get(testCase.blob);
        expect(record).toBeDefined();
        expect(record!.operation).toBe(testCase.container === 'add-subscriptions' ? 'add' : 'remove');
        expect(record!.name).toBe(testCase.blob.replace(/\.json$/, ''));
        expect(record!.error.message).toContain(testCase.expect.error);
        expect(record!.error.status).toBeUndefined(); // refused here, not by Altinn
        // The request is kept as dropped: its JSON, or its text when it is not JSON.
        const text = inputBytes(testCase, vars).toString('utf8');
        let expected: unknown = text;
        try {
            expected = JSON.parse(text) as unknown;
        } catch {
            // kept as text
        }
        expect(record!.request).toEqual(JSON.parse(JSON.stringify(expected)) as unknown); // as stored: JSON
    },
);

test('the dropped files are gone from add-subscriptions and remove-subscriptions, and nothing became active', async () => {
    expect(await blobNames(stack.container(containers.addSubscriptions))).toEqual([]);
    expect(await blobNames(stack.container(containers.removeSubscriptions))).toEqual([]);
    expect(await blobNames(stack.container(containers.activeSubscriptions))).toEqual([]);
});

test('Altinn received no call: no subscription request, no token', async () => {
    const counters = stack.sim.counters();
    expect(counters.requests['events.subscriptions']).toBeUndefined();
    expect(counters.grantsIssued).toBe(0);
    expect(await stack.sim.control.listSubscriptions()).toEqual([]);
});

test('every refusal is logged on one line, and no input starts a line of its own or prints a control character raw', () => {
    const output = host.output();
    expect(output.match(/step=subscription-refused /g)?.length).toBe(subscriptionCases.length);
    expect(output).toContain('FORGED');
    expect(forgedLines(output)).toEqual([]);
    expect(rawControlCharacters(output)).toEqual([]);
});
