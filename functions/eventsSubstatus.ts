/**
 * EventsSubstatus: sets the substatus of a confirmed instance whose substatus could not be set
 * right after complete, so that only the substatus is retried (never the download or complete).
 */
import { app, type InvocationContext } from '@azure/functions';
import { queues, storageConnection } from '../shared/names';
import { recordingFailures } from '../shared/failures';
import { getServices, type Services } from '../shared/services';
import { getStorage } from '../shared/storage';
import { acceptInstanceEvent, acceptQueuedEvent, failLoudly, pipelineFor, setSubstatus } from '../shared/instances';

export function createEventsSubstatus(services: () => Services = getServices) {
    return async function eventsSubstatus(queueItem: unknown, context: InvocationContext): Promise<void> {
        const pipeline = pipelineFor(services(), context);
        const message = await acceptQueuedEvent(pipeline, queues.eventsSubstatus, queueItem, context);
        if (!message) return;
        const event = await acceptInstanceEvent(pipeline, message);
        if (!event) return;

        await failLoudly(context, event.fields, () => setSubstatus(pipeline, event));
    };
}

export const eventsSubstatus = createEventsSubstatus();

app.storageQueue('EventsSubstatus', {
    queueName: queues.eventsSubstatus,
    connection: storageConnection,
    handler: recordingFailures(queues.eventsSubstatus, getStorage, eventsSubstatus),
});
