import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { InvocationContext } from '@azure/functions';
import { maxDequeueCount, readFailure, recordingFailures } from '../../../shared/failures';
import { dropPoison, listPoison, replayPoison } from '../../../shared/poison';
import { createStorage, decodeQueueMessage, type Storage } from '../../../shared/storage';
import { formatPoison } from '../../../tools/commands/poison';
import { startAzurite, type AzuriteInstance } from '../../support/azurite';

// Azurite and CLI processes start slowly on a loaded machine.
jest.setTimeout(30_000);

let azurite: AzuriteInstance;
let storage: Storage;

function event(id: string, type = 'app.instance.process.completed') {
    return { specversion: '1.0', id, type, source: `https://ttd.apps.tt02.altinn.no/ttd/a/instances/1/${id}` };
}

async function poison(queue: string, ...events: object[]): Promise<void> {
    await storage.queue(`${queue}-poison`).createIfNotExists();
    for (const e of events) await storage.enqueue(`${queue}-poison`, JSON.stringify(e));
}

async function failLastAttempt(queue: string, message: object, error: string): Promise<void> {
    const handler = recordingFailures(
        queue,
        () => storage,
        () => Promise.reject(new Error(error)),
    );
    const context = new InvocationContext({ triggerMetadata: { dequeueCount: maxDequeueCount() } });
    await expect(handler(message, context)).rejects.toThrow(error);
}

beforeAll(async () => {
    azurite = await startAzurite();
    storage = createStorage({ AzureWebJobsStorage: azurite.connectionString });
});

afterAll(() => azurite.stop());

afterEach(async () => {
    for await (const queue of storage.queueService.listQueues()) await storage.queue(queue.name).delete();
});

test('the final failed attempt records its error; earlier attempts do not', async () => {
    const early = recordingFailures(
        'events-inbound',
        () => storage,
        () => Promise.reject(new Error('first try')),
    );
    await expect(
        early(event('e-early'), new InvocationContext({ triggerMetadata: { dequeueCount: 1 } })),
    ).rejects.toThrow();
    expect(await readFailure(storage, 'events-inbound', 'e-early')).toBeUndefined();

    await failLastAttempt('events-inbound', event('e-last'), 'Altinn answered 503 on GET instance');
    const record = await readFailure(storage, 'events-inbound', 'e-last');
    expect(record).toMatchObject({
        queue: 'events-inbound',
        eventId: 'e-last',
        error: 'Altinn answered 503 on GET instance',
    });
    expect(record?.dequeueCount).toBe(maxDequeueCount());
});

test('list shows each poison message with its recorded error and age', async () => {
    await poison('events-inbound', event('e-1'), event('e-2'));
    await poison('broker-inbound', event('b-1', 'no.altinn.broker.published'));
    await failLastAttempt('events-inbound', event('e-1'), 'data element 7 answered 404');
    const listed = await listPoison(storage, undefined, new Date(Date.now() + 90_000));
    expect(listed.map((m) => [m.queue, m.eventId])).toEqual([
        ['events-inbound', 'e-1'],
        ['events-inbound', 'e-2'],
        ['broker-inbound', 'b-1'],
    ]);
    expect(listed[0].lastError).toBe('data element 7 answered 404');
    expect(listed[1].lastError).toBeUndefined();
    expect(listed[0].ageSeconds).toBeGreaterThanOrEqual(89);
    const text = formatPoison(listed);
    expect(text).toContain('events-inbound-poison');
    expect(text).toContain('error data element 7 answered 404');
    expect(text).toContain('error (not recorded)');
});

test('replay of one message puts exactly it back on its queue, unchanged, and forgets its error', async () => {
    await poison('events-inbound', event('e-1'), event('e-2'), event('e-3'));
    await failLastAttempt('events-inbound', event('e-2'), 'boom');
    const target = (await listPoison(storage, ['events-inbound'])).find((m) => m.eventId === 'e-2')!;
    expect(await replayPoison(storage, { queue: 'events-inbound', messageIds: [target.messageId] })).toBe(1);

    const { receivedMessageItems } = await storage.queue('events-inbound').receiveMessages({ numberOfMessages: 32 });
    expect(receivedMessageItems.map((m) => JSON.parse(decodeQueueMessage(m.messageText)) as unknown)).toEqual([
        event('e-2'),
    ]);
    // The two messages it did not select stay in the poison queue and are visible again at once.
    expect((await listPoison(storage, ['events-inbound'])).map((m) => m.eventId).sort()).toEqual(['e-1', 'e-3']);
    expect(await readFailure(storage, 'events-inbound', 'e-2')).toBeUndefined();
});

test('drop --all empties one poison queue and leaves the others', async () => {
    await poison('events-confirmation', event('c-1'), event('c-2'));
    await poison('events-feedback', event('f-1'));
    expect(await dropPoison(storage, { queue: 'events-confirmation' })).toBe(2);
    expect((await listPoison(storage)).map((m) => m.eventId)).toEqual(['f-1']);
});

test('the CLI lists, refuses a bad call, and replays --all', async () => {
    await poison('events-feedback', event('f-9'));
    const cli = join(__dirname, '..', '..', '..', 'dist', 'tools', 'aos.js');
    const env = { ...process.env, AzureWebJobsStorage: azurite.connectionString };
    const list = spawnSync(process.execPath, [cli, 'poison', 'list'], { env, encoding: 'utf8' });
    expect(list.status).toBe(0);
    expect(list.stdout).toContain('event f-9');

    const bad = spawnSync(process.execPath, [cli, 'poison', 'replay', '--queue', 'events-feedback'], {
        env,
        encoding: 'utf8',
    });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('needs --queue and either --id');

    const replay = spawnSync(process.execPath, [cli, 'poison', 'replay', '--queue', 'events-feedback', '--all'], {
        env,
        encoding: 'utf8',
    });
    expect(replay.stdout).toContain('Replayed 1 message(s) from events-feedback-poison.');
    const { receivedMessageItems } = await storage.queue('events-feedback').receiveMessages();
    expect(JSON.parse(decodeQueueMessage(receivedMessageItems[0].messageText))).toEqual(event('f-9'));
});
