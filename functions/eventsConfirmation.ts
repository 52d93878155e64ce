/**
 * EventsConfirmation: confirms to Altinn (POST complete) an instance that is stored, so that
 * Altinn may purge it.
 */
import { app, type InvocationContext } from '@azure/functions';
import { queues, storageConnection } from '../shared/names';
import { recordingFailures } from '../shared/failures';
import { getServices, type Services } from '../shared/services';
import { getStorage } from '../shared/storage';
import { acceptInstanceEvent, acceptQueuedEvent, confirmInstance, failLoudly, pipelineFor } from '../shared/instances';

export function createEventsConfirmation(services: () => Services = getServices) {
    return async function eventsConfirmation(queueItem: unknown, context: InvocationContext): Promise<void> {
        const message = acceptQueuedEvent(queueItem, context);
        if (!message) return;
        const pipeline = pipelineFor(services(), context);
        const event = acceptInstanceEvent(message, pipeline.config.appsBaseUrl, context);
        if (!event) return;

        await failLoudly(context, event.fields, async () => {
            if ((await confirmInstance(pipeline, event)) === 'confirmed') {
                await pipeline.ledger.confirmed(event.subject);
            }
        });
    };
}

export const eventsConfirmation = createEventsConfirmation();

app.storageQueue('EventsConfirmation', {
    queueName: queues.eventsConfirmation,
    connection: storageConnection,
    handler: recordingFailures(queues.eventsConfirmation, getStorage, eventsConfirmation),
});
