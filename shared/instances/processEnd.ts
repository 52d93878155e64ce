/**
 * Confirm only what Altinn finished. `complete` lets Altinn purge the instance and takes it out of
 * reconciliation for good (Storage's `excludeConfirmedBy`), so it is called only when Altinn's own
 * document says the process has ended (`process.ended`), never on the word of an event: a forged
 * event, a type filter set too wide or a custom event type may say "completed" of an instance that
 * still stands in a task.
 *
 * Such an event is not stored and not confirmed. (Another event type configured in
 * ProcessedEventTypes, such as app.instance.created, stores the instance as it stands and confirms
 * nothing until the process has ended: confirmation.ts.) Like the wait for a malware scan (scanWait.ts), a
 * copy of it goes back on events-inbound, invisible for a while, carrying in the CloudEvent
 * extension attribute `aosnotendedsince` when the wait began, and the invocation completes (the
 * wait never counts as a failed attempt). The pauses grow: a minute, then as long as the wait has
 * lasted so far, at most an hour. Once ProcessEndWaitMinutes have passed, it is recorded (ledger
 * fact `notEndedAt`, the status page, `step=process-not-ended`, which an alert rule reads) and
 * left: when the process ends, Altinn's completed event, the catch-up and reconciliation (which
 * lists instances complete in Altinn and not confirmed by the owner) bring it in again.
 *
 * The same record is made when process/next after feedback leaves the process in another task.
 */
import type { Instance } from '../altinn/apps';
import { errorStep, logStep, warnStep } from '../log';
import { queues } from '../names';
import type { InstanceEvent, Pipeline } from './pipeline';
import { processPosition } from './version';

/** The event type that says an instance's process completed (app-lib's ProcessEventDispatcher publishes it at the end event). */
export const processCompletedType = 'app.instance.process.completed';

/** CloudEvent extension attribute (lower case letters only, as CloudEvents requires) with the first time the process was found not ended. */
export const notEndedSinceAttribute = 'aosnotendedsince';

const firstRecheckSeconds = 60;
const longestRecheckSeconds = 3600;

/** Queues the event again for later, or, once the wait is over, records it and lets it go. */
export async function waitForProcessEnd(
    pipeline: Pick<Pipeline, 'storage' | 'config' | 'logger' | 'ledger'>,
    message: InstanceEvent,
    instance: Pick<Instance, 'process'>,
    now = new Date(),
): Promise<void> {
    const { storage, config, logger } = pipeline;
    const since = notEndedSince(message, now);
    const waited = now.getTime() - since.getTime();
    const task = processPosition(instance.process);
    if (waited >= config.processEndWaitMs) {
        await recordNotEnded(pipeline, message, task, 'wait', since);
        return;
    }
    const pause = Math.min(longestRecheckSeconds, Math.max(firstRecheckSeconds, waited / 1000));
    const untilDeadline = (config.processEndWaitMs - waited) / 1000;
    const recheckInSeconds = Math.max(1, Math.round(Math.min(pause, untilDeadline)));
    const later = { ...message.event, [notEndedSinceAttribute]: since.toISOString() };
    await storage.enqueue(queues.eventsInbound, later, { visibleAfterSeconds: recheckInSeconds });
    logStep(logger, 'process-end-wait', {
        ...message.fields,
        type: message.event.type,
        task,
        notEndedSince: since.toISOString(),
        recheckInSeconds,
    });
}

/**
 * Records that nothing was confirmed because the process had not ended: `after` the wait for the
 * process to end (an error: a completed event that was not true), or after the feedback stage,
 * whose process/next left the process in another task (a warning: the app's process goes on after
 * feedback, and its own completed event confirms it later).
 */
export async function recordNotEnded(
    { ledger, logger }: Pick<Pipeline, 'ledger' | 'logger'>,
    message: InstanceEvent,
    task: string,
    after: 'wait' | 'feedback',
    since?: Date,
): Promise<void> {
    await ledger.notEnded(message.subject, { task, eventId: message.event.id });
    const fields = {
        ...message.fields,
        instanceId: message.ref.instanceId,
        eventType: message.event.type,
        task,
        after,
        notEndedSince: since?.toISOString(),
        reason:
            after === 'wait'
                ? 'Altinn says the process has not ended (ProcessEndWaitMinutes passed); nothing stored or confirmed'
                : 'after feedback the process stands in a task, not ended; nothing confirmed',
        note: 'catch-up and reconciliation confirm it once the process ends',
    };
    if (after === 'wait') errorStep(logger, 'process-not-ended', { ...fields });
    else warnStep(logger, 'process-not-ended', { ...fields });
}

/** When this event first met a process not ended: its attribute, or now (also when the attribute is not a time). */
function notEndedSince(message: InstanceEvent, now: Date): Date {
    const value = message.event[notEndedSinceAttribute];
    const time = typeof value === 'string' ? Date.parse(value) : NaN;
    return Number.isNaN(time) || time > now.getTime() ? now : new Date(time);
}
