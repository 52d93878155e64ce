/**
 * EventsProcessor: for each app event on events-inbound, stores the instance (every data
 * element, manifest.json, then instance.json), then hands the event on to feedback, or, when no
 * feedback is wanted, confirms it at once (events-confirmation takes over only if that fails).
 * While Altinn still scans an element for malware, or the process has not ended (for an event that
 * would confirm it), the event comes back later. A repeat of what is already stored, confirmed and
 * handed off changes nothing (step=already-done).
 */
import { app, type InvocationContext } from '@azure/functions';
import { deferredWriter, ledgerOf, recordGone, viaOf } from '../shared/ledger';
import { logStep } from '../shared/log';
import { queues, storageConnection } from '../shared/names';
import { recordingFailures } from '../shared/failures';
import { getServices, type Services } from '../shared/services';
import { getStorage } from '../shared/storage';
import {
    acceptInstanceEvent,
    acceptQueuedEvent,
    confirmNowOrHandOn,
    failLoudly,
    handledBefore,
    handOn,
    historyOf,
    pipelineFor,
    processCompletedType,
    queueAfterStore,
    settledBy,
    storedByAnotherCopy,
    storeInstance,
    waitForProcessEnd,
    waitForScan,
} from '../shared/instances';

export function createEventsProcessor(services: () => Services = getServices) {
    return async function eventsProcessor(queueItem: unknown, context: InvocationContext): Promise<void> {
        const pipeline = pipelineFor(services(), context);
        const message = await acceptQueuedEvent(pipeline, queues.eventsInbound, queueItem, context);
        if (!message) return;
        if (!pipeline.config.processedEventTypes.includes(message.event.type)) {
            logStep(context, 'event-skipped', {
                ...message.fields,
                type: message.event.type,
                reason: 'type not processed',
            });
            return;
        }
        const event = await acceptInstanceEvent(pipeline, message);
        if (!event) return;
        const history = historyOf(pipeline, event);
        if (await handledBefore(pipeline, event, history)) return;
        // First seen, stored and confirmed go to the ledger together when the invocation ends
        // (one insert), also when it fails, so that the failure is recorded on an entry with its first sight.
        const ledger = deferredWriter(ledgerOf(pipeline.storage), context);
        const stage = { ...pipeline, ledger };
        await ledger.firstSeen(event.subject, viaOf(event.event), event.event.id);

        try {
            await failLoudly(context, event.fields, async () => {
                const next = queueAfterStore(event.event, stage.config);
                const confirming = next === queues.eventsConfirmation;
                const stored = await storeInstance(stage, event, {
                    waitForEnd: confirming && event.event.type === processCompletedType,
                    settled: settledBy(stage, event, history),
                });
                if (stored.kind === 'gone') return recordGone(ledgerOf(stage.storage), context, event.subject);
                if (stored.kind === 'already-done') return ledger.discard();
                if (stored.kind === 'not-ended') return waitForProcessEnd(stage, event, stored.instance);
                if (stored.kind === 'scan-pending') return waitForScan(stage, event, stored.pending);
                await ledger.stored(event.subject, stored);
                if (storedByAnotherCopy(stage, event, stored)) return;
                if (!confirming) await handOn(stage, next, event);
                else await confirmNowOrHandOn(stage, event, history, stored);
            });
        } finally {
            await ledger.flush();
        }
    };
}

export const eventsProcessor = createEventsProcessor();

app.storageQueue('EventsProcessor', {
    queueName: queues.eventsInbound,
    connection: storageConnection,
    handler: recordingFailures(queues.eventsInbound, getStorage, eventsProcessor),
});
