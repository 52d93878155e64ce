import { QueueClient } from '@azure/storage-queue';
import { formatFields } from '../../../shared/log';
import { queues } from '../../../shared/names';
import { listPoison } from '../../../shared/poison';
import { createStorage } from '../../../shared/storage';
import { startHostProcess, repoRoot, type HostProcess } from '../../support/host';
import { startReceiver, waitUntil, type Receiver } from '../../support/simulator';
import { blobNames, startStack, type Stack } from '../subscriptions/stack';
import {
    forgedLines,
    hostWait,
    inputBytes,
    rawControlCharacters,
    receiverCases,
    type Outcome,
    type ReceiverCase,
} from './corpus';

/*
 * The bad-input corpus (test/fixtures/bad-input/receiver.json) against POST /api/eventsreceiver
 * over real HTTP, through the local Functions host running the app's real functions (a child
 * process), with Azurite and the Altinn simulator behind it. Each case gets its documented answer;
 * nothing is queued for a refused one; an event that is well-formed but odd is queued and then
 * refused (into events-inbound-poison, with the reason), skipped or found gone by EventsProcessor,
 * without a request to a foreign origin and without a confirmation; and no input starts a log line
 * of its own. Needs `npm run build`.
 */

jest.setTimeout(60_000);

let stack: Stack;
let host: HostProcess;
let foreign: Receiver;
let vars: Record<string, string>;
/** The accepted cases and the event id the system read from each. */
const accepted: { testCase: ReceiverCase; eventId: string }[] = [];

beforeAll(async () => {
    stack = await startStack({
        AzureFunctionsJobHost__extensions__queues__maxDequeueCount: '2',
        AzureFunctionsJobHost__extensions__queues__visibilityTimeout: '00:00:01',
        AzureFunctionsJobHost__extensions__queues__maxPollingInterval: '00:00:00.200',
    });
    foreign = await startReceiver();
    vars = { apps: stack.sim.appsUrl, evil: foreign.url, evilHost: new URL(foreign.url).host };
    host = await startHostProcess({ appRoot: repoRoot, env: stack.env, startTimeoutMs: 60_000 });
}, 120_000);

afterAll(async () => {
    await host?.stop(10_000);
    await foreign?.stop();
    await stack?.stop();
});

async function send(testCase: ReceiverCase, body: Buffer): Promise<Response> {
    const url = `${host.url}/api/eventsreceiver?code=bad-input`;
    const headers = { 'content-type': testCase.contentType ?? 'application/json' };
    if (!testCase.chunked) return fetch(url, { method: 'POST', headers, body });
    const stream = new ReadableStream<Uint8Array>({
        start(controller) {
            for (let offset = 0; offset < body.length; offset += 64 * 1024) {
                controller.enqueue(body.subarray(offset, offset + 64 * 1024));
            }
            controller.close();
        },
    });
    return fetch(url, { method: 'POST', headers, body: stream, duplex: 'half' });
}

/** How a log line shows this event id (logfmt, as shared/log writes it). */
function loggedId(eventId: string): string {
    return formatFields('x', { eventId }).slice('step=x '.length);
}

const outcomeStep: Record<Outcome, string> = { refused: 'refused', skipped: 'event-skipped', gone: 'instance-gone' };

describe('each case gets its documented answer', () => {
    test.each(receiverCases.map((testCase) => [testCase.name, testCase] as const))('%s', async (_name, testCase) => {
        const body = inputBytes(testCase, vars);
        const mark = host.output().length;
        const response = await send(testCase, body);
        const text = await response.text();
        expect(response.status).toBe(testCase.expect.status);

        if (testCase.expect.status >= 400) {
            expect(response.headers.get('content-type')).toBe('application/problem+json');
            const problem = JSON.parse(text) as { type: string; title: string; status: number; detail: string };
            expect(problem).toMatchObject({ type: 'about:blank', status: testCase.expect.status });
            expect(problem.title).toBe(testCase.expect.title);
            expect(problem.detail).toContain(testCase.expect.detail);
            await hostWait(host, host.waitForOutput(/step=rejected /, 10_000, mark));
        } else if (testCase.expect.queued) {
            const eventId = (JSON.parse(body.toString('utf8')) as { id: string }).id;
            await hostWait(
                host,
                host.waitForOutput(new RegExp(`step=queued ${escapeRegExp(loggedId(eventId))} `), 10_000, mark),
            );
            accepted.push({ testCase, eventId });
        } else {
            expect(text).toBe('Subscription validated');
            await hostWait(host, host.waitForOutput(/step=validated-subscription /, 10_000, mark));
        }
        if (!testCase.expect.queued) expect(host.output().slice(mark)).not.toMatch(/\] step=queued /);
    });
});

describe('downstream', () => {
    test('every queued event is refused, skipped or found gone by EventsProcessor, once, and nothing is confirmed', async () => {
        expect(accepted.length).toBe(receiverCases.filter((c) => c.expect.queued).length);
        const lines = () => host.output().split('\n');
        await hostWait(
            host,
            waitUntil(
                () =>
                    accepted.every(({ testCase, eventId }) => {
                        const prefix = `step=${outcomeStep[testCase.expect.processor!]} ${loggedId(eventId)} `;
                        return lines().some((line) => line.includes(prefix));
                    }) || undefined,
                30_000,
                'the processor’s outcome for every queued event',
            ),
        );
        for (const { testCase, eventId } of accepted) {
            const outcomes = lines().filter((line) =>
                /step=(refused|event-skipped|instance-gone|instance-stored|failed) /.test(line),
            );
            const mine = outcomes.filter((line) => line.includes(` ${loggedId(eventId)} `));
            expect({ name: testCase.name, steps: mine.map((line) => /step=([\w-]+)/.exec(line)![1]) }).toEqual({
                name: testCase.name,
                steps: [outcomeStep[testCase.expect.processor!]],
            });
        }
        const output = host.output();
        expect(output.match(/Executing 'Functions\.EventsProcessor'/g)?.length).toBe(accepted.length);
        expect(output).not.toMatch(/Executed 'Functions\.\w+' \(Failed/);

        const counters = stack.sim.counters();
        const gone = accepted.filter(({ testCase }) => testCase.expect.processor === 'gone').length;
        // Only the instances on the configured apps origin were fetched (and found missing); nothing was confirmed.
        expect(counters.requests['apps.getInstance']).toEqual({ '404': gone });
        expect(counters.requests['apps.complete']).toBeUndefined();
        expect(counters.completes).toEqual({});
        expect(counters.authorizationHeaders.maskinporten).toBe(0);
        // The listening foreign origin was never called.
        expect(foreign.received).toEqual([]);
    });

    test('each refused event is in events-inbound-poison with its reason; nothing else is left in a queue, and nothing is stored', async () => {
        const refused = accepted.filter(({ testCase }) => testCase.expect.processor === 'refused');
        const storage = createStorage({ AzureWebJobsStorage: stack.azurite.connectionString });
        const poisoned = await listPoison(storage, [queues.eventsInbound]);
        expect(poisoned.map((m) => m.eventId).sort()).toEqual(refused.map(({ eventId }) => eventId).sort());
        expect(poisoned.every((m) => m.refused && m.lastError !== undefined)).toBe(true);
        for (const name of ['events-inbound', 'events-confirmation', 'events-feedback', 'broker-inbound']) {
            for (const queue of [name, `${name}-poison`]) {
                const client = new QueueClient(stack.azurite.connectionString, queue);
                if (!(await client.exists())) continue;
                expect({ queue, messages: (await client.getProperties()).approximateMessagesCount }).toEqual({
                    queue,
                    messages: queue === 'events-inbound-poison' ? refused.length : 0,
                });
            }
        }
        expect(await blobNames(stack.container('inbound'))).toEqual([]);
    });
});

describe('logs', () => {
    test('no input starts a log line of its own (newline, CR, U+2028, NEL), and no control or bidi character is printed raw', () => {
        const output = host.output();
        expect(output).toContain('FORGED'); // the hostile text is logged...
        expect(forgedLines(output)).toEqual([]); // ...but never at the start of a line
        expect(rawControlCharacters(output)).toEqual([]);
    });
});

function escapeRegExp(text: string): string {
    return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
