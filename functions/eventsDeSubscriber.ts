/**
 * EventsDeSubscriber: ends the subscriptions named in remove-subscriptions
 * (remove-subscriptions/{name}.json, a copy of the active subscription or {"id": n} -> DELETE in
 * Altinn, 404 counting as already gone -> the request and the active-subscriptions blob deleted;
 * see shared/subscriptions/service.ts). A timer that scans the container, for the reasons given in
 * eventsSubscriber.ts.
 */
import { app, type InvocationContext, type Timer } from '@azure/functions';
import { logStep } from '../shared/log';
import { timerSchedule } from '../shared/schedules';
import { getServices } from '../shared/services';
import { processRemoveRequests, subscriptionDeps } from '../shared/subscriptions';

export async function eventsDeSubscriber(_timer: Timer, context: InvocationContext): Promise<void> {
    const summary = await processRemoveRequests(subscriptionDeps(getServices()), context);
    if (summary.found > 0) logStep(context, 'subscriptions-run', { operation: 'remove', ...summary });
    if (summary.deferred > 0) {
        throw new Error(
            `${summary.deferred} request(s) stay in remove-subscriptions for the next run (see subscription-deferred above)`,
        );
    }
}

app.timer('EventsDeSubscriber', {
    schedule: timerSchedule('SubscriptionsSchedule'),
    runOnStartup: false,
    handler: eventsDeSubscriber,
});
