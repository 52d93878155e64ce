import { randomUUID } from 'node:crypto';
import { QueueClient } from '@azure/storage-queue';
import { type Simulator } from '../../../dev/simulator/simulator';
import { listPoison } from '../../../shared/poison';
import { createStorage, encodeQueueMessage } from '../../../shared/storage';
import { startAzurite, type AzuriteInstance } from '../../support/azurite';
import { quickQueueSettings, repoRoot, startHostProcess, type HostProcess } from '../../support/host';
import {
    clientRegistration,
    clientSettings,
    createClientCredentials,
    startTestSimulator,
    waitUntil,
    SERVICEOWNER_SCOPES,
} from '../../support/simulator';

/*
 * As deployed: a message fails every attempt, the host copies it to its poison queue with the
 * 7-day default, and the deployed PoisonKeeper function (on PoisonKeeperSchedule) makes it durable;
 * `aos poison` still lists it with the error of its last attempt.
 */

jest.setTimeout(90_000);

let azurite: AzuriteInstance;
let sim: Simulator;
let host: HostProcess;

beforeAll(async () => {
    [azurite, sim] = await Promise.all([startAzurite(), startTestSimulator()]);
    const creds = createClientCredentials();
    await sim.control.registerClient(clientRegistration(creds, SERVICEOWNER_SCOPES));
    host = await startHostProcess({
        appRoot: repoRoot,
        env: {
            AzureWebJobsStorage: azurite.connectionString,
            ...clientSettings(sim, creds, SERVICEOWNER_SCOPES),
            ...quickQueueSettings,
            PoisonKeeperSchedule: '*/2 * * * * *',
        },
    });
});

afterAll(async () => {
    await host?.stop(10_000);
    await Promise.all([sim?.stop(), azurite?.stop()]);
});

test('through the host: a message the host put in poison is kept without expiry by PoisonKeeper, and listed with its error', async () => {
    // Confirmation of an instance that was never stored fails on every attempt (nothing is confirmed).
    const event = {
        specversion: '1.0',
        id: `never-stored-${randomUUID()}`,
        type: 'app.instance.process.completed',
        source: `${sim.appsUrl}/ttd/keeper-app/instances/50001001/${randomUUID()}`,
    };
    await new QueueClient(azurite.connectionString, 'events-confirmation').sendMessage(
        encodeQueueMessage(JSON.stringify(event)),
    );
    await host.waitForOutput(
        /Message has reached MaxDequeueCount of 2\. Moving message to queue 'events-confirmation-poison'/,
        30_000,
    );
    await host.waitForOutput(/step=poison-kept queue=events-confirmation-poison kept=1/, 15_000);

    const poison = new QueueClient(azurite.connectionString, 'events-confirmation-poison');
    const peeked = await waitUntil(
        async () => {
            const { peekedMessageItems } = await poison.peekMessages({ numberOfMessages: 32 });
            return peekedMessageItems.length === 1 && peekedMessageItems[0].expiresOn.getUTCFullYear() === 9999
                ? peekedMessageItems
                : undefined;
        },
        10_000,
        'the durable poison message',
    );
    expect(peeked[0].messageText).toBe(encodeQueueMessage(JSON.stringify(event)));

    const [listed] = await listPoison(createStorage({ AzureWebJobsStorage: azurite.connectionString }), [
        'events-confirmation',
    ]);
    expect(listed).toMatchObject({ eventId: event.id });
    expect(listed.lastError).toMatch(/not stored|instance\.json/i);
    expect(sim.counters().completes).toEqual({});
});
