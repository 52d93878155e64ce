/**
 * EventsConfirmation: confirms to Altinn (POST complete) an instance that is stored, so that
 * Altinn may purge it, and hands it off unless this version was handed off before.
 */
import { app, type InvocationContext } from '@azure/functions';
import { deferredWriter, ledgerOf } from '../shared/ledger';
import { queues, storageConnection } from '../shared/names';
import { recordingFailures } from '../shared/failures';
import { getServices, type Services } from '../shared/services';
import { getStorage } from '../shared/storage';
import {
    acceptInstanceEvent,
    acceptQueuedEvent,
    confirmInstance,
    failLoudly,
    historyOf,
    pipelineFor,
} from '../shared/instances';

export function createEventsConfirmation(services: () => Services = getServices) {
    return async function eventsConfirmation(queueItem: unknown, context: InvocationContext): Promise<void> {
        const pipeline = pipelineFor(services(), context);
        const message = await acceptQueuedEvent(pipeline, queues.eventsConfirmation, queueItem, context);
        if (!message) return;
        const event = await acceptInstanceEvent(pipeline, message);
        if (!event) return;
        // Confirmed, handed off and handled go to the ledger in one write when the invocation ends.
        const ledger = deferredWriter(ledgerOf(pipeline.storage), context);
        const stage = { ...pipeline, ledger };

        try {
            await failLoudly(context, event.fields, () => confirmInstance(stage, event, historyOf(stage, event)));
        } finally {
            await ledger.flush();
        }
    };
}

export const eventsConfirmation = createEventsConfirmation();

app.storageQueue('EventsConfirmation', {
    queueName: queues.eventsConfirmation,
    connection: storageConnection,
    handler: recordingFailures(queues.eventsConfirmation, getStorage, eventsConfirmation),
});
