/**
 * EventsSubscriber: registers the subscription requests dropped into add-subscriptions
 * (add-subscriptions/{name}.json -> Altinn -> active-subscriptions/{name}.json; a refused request
 * goes to failed-subscriptions/{name}.json; see shared/subscriptions/service.ts).
 *
 * A timer that scans the container, not a blob trigger: on Flex Consumption a blob trigger must
 * use Event Grid, whose webhook needs the blobs_extension system key, which exists only after the
 * code is deployed (so Bicep alone cannot wire it), and Azurite has no Event Grid. A scan never
 * misses a blob, and since Altinn caches subscriptions for up to an hour, a minute's delay does
 * not matter. Each blob is processed under a lease, so overlapping runs never act on it twice.
 *
 * Each run also checks, at most every ten minutes, that Altinn still has every subscription in
 * active-subscriptions and has validated it (the self-check, shown on the status page).
 */
import { app, type InvocationContext, type Timer } from '@azure/functions';
import { logStep } from '../shared/log';
import { timerSchedule } from '../shared/schedules';
import { getServices } from '../shared/services';
import { checkSubscriptionsIfDue, processAddRequests, subscriptionDeps } from '../shared/subscriptions';

export async function eventsSubscriber(_timer: Timer, context: InvocationContext): Promise<void> {
    const deps = subscriptionDeps(getServices());
    const summary = await processAddRequests(deps, context);
    if (summary.found > 0) logStep(context, 'subscriptions-run', { operation: 'add', ...summary });
    // On a quiet run (one that registered something has just heard from Altinn): is what
    // active-subscriptions holds what Altinn pushes to? (shared/subscriptions/selfCheck.ts)
    if (summary.found === 0) await checkSubscriptionsIfDue(deps, context);
    if (summary.deferred > 0) {
        throw new Error(
            `${summary.deferred} subscription request(s) stay in add-subscriptions for the next run (see subscription-deferred above)`,
        );
    }
}

app.timer('EventsSubscriber', {
    schedule: timerSchedule('SubscriptionsSchedule'),
    runOnStartup: false,
    handler: eventsSubscriber,
});
