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
        const pipeline = pipelineFor(services(), context);
        const message = await acceptQueuedEvent(pipeline, queues.eventsConfirmation, queueItem, context);
        if (!message) return;
        const event = await acceptInstanceEvent(pipeline, message);
        if (!event) return;

        await failLoudly(context, event.fields, () => confirmInstance(pipeline, event));
    };
}

export const eventsConfirmation = createEventsConfirmation();

app.storageQueue('EventsConfirmation', {
    queueName: queues.eventsConfirmation,
    connection: storageConnection,
    handler: recordingFailures(queues.eventsConfirmation, getStorage, eventsConfirmation),
});
