/**
 * EventsFeedback: uploads the feedback element to the instance and moves its process on, then
 * hands the event on to confirmation when the process has ended; when it stands in another task,
 * nothing is confirmed and that is recorded (its own completed event confirms it later).
 */
import { app, type InvocationContext } from '@azure/functions';
import { ledgerOf, recordGone } from '../shared/ledger';
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
    processWithoutFeedback,
    recordNotEnded,
    sendFeedback,
} from '../shared/instances';

export function createEventsFeedback(services: () => Services = getServices) {
    return async function eventsFeedback(queueItem: unknown, context: InvocationContext): Promise<void> {
        const pipeline = pipelineFor(services(), context);
        const message = await acceptQueuedEvent(pipeline, queues.eventsFeedback, queueItem, context);
        if (!message) return;
        const event = await acceptInstanceEvent(pipeline, message);
        if (!event) return;

        await failLoudly(context, event.fields, async () => {
            const feedback = pipeline.config.feedback;
            if (!feedback)
                logStep(context, 'feedback-skipped', { ...event.fields, reason: 'feedback is not configured' });
            const outcome = feedback
                ? await sendFeedback(pipeline, event, feedback)
                : await processWithoutFeedback(pipeline, event);
            if (outcome.kind === 'gone') return recordGone(ledgerOf(pipeline.storage), context, event.subject);
            if (!outcome.ended) return recordNotEnded(pipeline, event, outcome.task, 'feedback');
            await handOn(pipeline, queues.eventsConfirmation, event);
        });
    };
}

export const eventsFeedback = createEventsFeedback();

app.storageQueue('EventsFeedback', {
    queueName: queues.eventsFeedback,
    connection: storageConnection,
    handler: recordingFailures(queues.eventsFeedback, getStorage, eventsFeedback),
});
