import { InvocationContext } from '@azure/functions';
import type { AppConfig, AppRef } from '../../../shared/config';
import {
    acceptInstanceEvent,
    acceptQueuedEvent,
    isAccepted,
    queueAfterStore,
} from '../../../shared/instances/pipeline';
import { queues } from '../../../shared/names';
import { createStorage } from '../../../shared/storage';
import { ByteCountError, ByteCounter } from '../../../shared/instances/store';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

function context(triggerMetadata?: Record<string, unknown>) {
    const logs: { level: string; message: string }[] = [];
    const ctx = new InvocationContext({
        functionName: 'test',
        invocationId: 'i',
        triggerMetadata,
        logHandler: (level, ...args) => logs.push({ level, message: args.map(String).join(' ') }),
    });
    return { ctx, logs };
}

const event = {
    specversion: '1.0',
    id: 'e-1',
    source: 'https://ttd.apps.example/ttd/app/instances/1/0f5d3a28-7cde-4d6c-a7a2-2d8d1b2d8a11',
    type: 'app.instance.process.completed',
    resource: 'urn:altinn:resource:app_ttd_app',
    data: { n: 1 },
};

/**
 * The accepting path touches no storage (refusals, which write to the poison queue, are tested
 * against Azurite in test/integration/poison/refusals.test.ts).
 */
const storage = createStorage({ AzureWebJobsStorage: 'UseDevelopmentStorage=true' });

function pipelineOf(appsBaseUrl: string, acceptedApps?: AppRef[]) {
    const { ctx } = context();
    return { config: { appsBaseUrl, acceptedApps } as AppConfig, storage, logger: ctx };
}

test('a parsed queue message becomes the event, its JSON text and the attempt from dequeueCount', async () => {
    // The library lets the payload's id overwrite the metadata's: the attempt is read from dequeueCount only.
    const { ctx } = context({ dequeueCount: 3, id: event.id, queueTrigger: event });
    const message = (await acceptQueuedEvent({ storage }, queues.eventsInbound, event, ctx))!;
    expect(message.event).toBe(event);
    expect(JSON.parse(message.text)).toEqual(event);
    expect(Object.keys(JSON.parse(message.text) as object)).toEqual(Object.keys(event));
    expect(message.fields).toEqual({ eventId: 'e-1', attempt: 3 });
    expect(message.queue).toBe(queues.eventsInbound);
});

test('an instance event carries eventId and instanceId in its log fields', async () => {
    const { ctx } = context();
    const message = (await acceptQueuedEvent({ storage }, queues.eventsFeedback, event, ctx))!;
    expect((await acceptInstanceEvent(pipelineOf('https://ttd.apps.example'), message))?.fields).toEqual({
        eventId: 'e-1',
        instanceId: '1/0f5d3a28-7cde-4d6c-a7a2-2d8d1b2d8a11',
        attempt: undefined,
    });
});

test('AcceptedApps lets in the apps it names (any case), and every app when unset', () => {
    const ref = { org: 'ttd', app: 'app' };
    expect(isAccepted(undefined, ref)).toBe(true);
    expect(
        isAccepted(
            [
                { org: 'ttd', app: 'other' },
                { org: 'TTD', app: 'App' },
            ],
            ref,
        ),
    ).toBe(true);
    expect(isAccepted([{ org: 'ttd', app: 'other' }], ref)).toBe(false);
    expect(isAccepted([], ref)).toBe(false);
});

test('the feedback event type goes to events-feedback, everything else to events-confirmation', () => {
    const config = {
        feedback: { eventType: 'app.instance.process.movedTo.Task_2', dataType: 'fb', contentType: 'application/xml' },
    };
    expect(queueAfterStore({ ...event, type: 'app.instance.process.movedTo.Task_2' } as never, config)).toBe(
        'events-feedback',
    );
    expect(queueAfterStore(event as never, config)).toBe('events-confirmation');
    expect(queueAfterStore({ ...event, type: 'app.instance.process.movedTo.Task_2' } as never, {})).toBe(
        'events-confirmation',
    );
});

describe('ByteCounter', () => {
    const sink = () => new Writable({ write: (_c, _e, cb) => cb() });
    test('passes exactly the expected bytes', async () => {
        const counter = new ByteCounter('d', 6);
        await pipeline(Readable.from([Buffer.from('abc'), Buffer.from('def')]), counter, sink());
        expect(counter.bytes).toBe(6);
    });
    test('fails at the end when bytes are missing', async () => {
        await expect(pipeline(Readable.from([Buffer.from('abc')]), new ByteCounter('d', 6), sink())).rejects.toThrow(
            new ByteCountError('d', 6, 3, true),
        );
    });
    test('fails at the first byte too many, before the rest is read', async () => {
        let pulled = 0;
        const source = new Readable({
            highWaterMark: 1,
            read() {
                pulled++;
                this.push(pulled > 100 ? null : Buffer.alloc(4));
            },
        });
        await expect(pipeline(source, new ByteCounter('d', 6), sink())).rejects.toThrow(/more than its size of 6/);
        expect(pulled).toBeLessThan(10);
    });
});
