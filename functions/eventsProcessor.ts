/**
 * EventsProcessor: for each app event on events-inbound, stores the instance (every data
 * element, then instance.json) and hands the event on to feedback or confirmation.
 */
import { app, type InvocationContext } from '@azure/functions';
import { viaOf } from '../shared/ledger';
import { logStep } from '../shared/log';
import { queues, storageConnection } from '../shared/names';
import { recordingFailures } from '../shared/failures';
import { getServices, type Services } from '../shared/services';
import { getStorage } from '../shared/storage';
import {
    acceptInstanceEvent,
    acceptQueuedEvent,
    failLoudly,
    handOn,
    pipelineFor,
    queueAfterStore,
    storeInstance,
} from '../shared/instances';

export function createEventsProcessor(services: () => Services = getServices) {
    return async function eventsProcessor(queueItem: unknown, context: InvocationContext): Promise<void> {
        const message = acceptQueuedEvent(queueItem, context);
        if (!message) return;
        const pipeline = pipelineFor(services(), context);
        if (!pipeline.config.processedEventTypes.includes(message.event.type)) {
            logStep(context, 'event-skipped', {
                ...message.fields,
                type: message.event.type,
                reason: 'type not processed',
            });
            return;
        }
        const event = acceptInstanceEvent(message, pipeline.config.appsBaseUrl, context);
        if (!event) return;
        await pipeline.ledger.firstSeen(event.subject, viaOf(event.event), event.event.id);

        await failLoudly(context, event.fields, async () => {
            const stored = await storeInstance(pipeline, event);
            if (stored.kind === 'gone') return;
            await pipeline.ledger.stored(event.subject, stored);
            await handOn(pipeline, queueAfterStore(event.event, pipeline.config), event);
        });
    };
}

export const eventsProcessor = createEventsProcessor();

app.storageQueue('EventsProcessor', {
    queueName: queues.eventsInbound,
    connection: storageConnection,
    handler: recordingFailures(queues.eventsInbound, getStorage, eventsProcessor),
});
