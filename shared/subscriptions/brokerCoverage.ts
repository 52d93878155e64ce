/**
 * Whether the Broker subscriptions can deliver Broker's `fileneverconfirmeddownloaded`. Altinn Events
 * pushes an event to a subscription only when its typeFilter is absent or exactly the event's type
 * (altinn-events src/Events/Migration/FunctionsAndProcedures/getsubscriptions.sql:
 * `s.typefilter is NULL OR s.typefilter = type`; no wildcards, case-sensitive). A subscription filtered
 * to `no.altinn.broker.published` therefore never delivers the event that says Broker purged a file we
 * never confirmed, and its ledger fact, status row and alert can never fire. A resource in
 * BrokerResources is covered when at least one of its subscriptions has no typeFilter or that type;
 * otherwise each of its subscriptions is a finding of the self-check.
 */
import { NEVER_CONFIRMED_EVENT_TYPE, RESOURCE_PREFIX } from '../broker/event';
import type { CheckedSubscription } from './selfCheck';

export const missesNeverConfirmed = 'misses-never-confirmed';

/** Whether a subscription with this typeFilter receives the never-confirmed event. */
export function receivesNeverConfirmed(typeFilter: string | undefined): boolean {
    return typeFilter === undefined || typeFilter === NEVER_CONFIRMED_EVENT_TYPE;
}

/** The findings, with a problem added to each Broker subscription of a resource that no subscription covers. */
export function withBrokerCoverage(
    checked: CheckedSubscription[],
    brokerResources: readonly string[],
): CheckedSubscription[] {
    // Altinn stores resourceFilter lower-cased (SubscriptionRepository).
    const broker = new Set(brokerResources.map((resource) => `${RESOURCE_PREFIX}${resource}`.toLowerCase()));
    const resourceOf = (entry: CheckedSubscription) => entry.resourceFilter?.toLowerCase();
    const covered = new Set(
        checked
            .filter((entry) => broker.has(resourceOf(entry) ?? '') && receivesNeverConfirmed(entry.typeFilter))
            .map(resourceOf),
    );
    return checked.map((entry) => {
        const resource = resourceOf(entry);
        if (entry.problem || !resource || !broker.has(resource) || covered.has(resource)) return entry;
        return {
            ...entry,
            problem: {
                reason: missesNeverConfirmed,
                detail:
                    `subscription ${entry.id} on ${entry.resourceFilter} has typeFilter ${JSON.stringify(entry.typeFilter)}, and Altinn ` +
                    `pushes only exact type matches: ${NEVER_CONFIRMED_EVENT_TYPE} (Broker purged a file we never confirmed) ` +
                    `never arrives for this resource. Register it without typeFilter (BrokerProcessor ignores the other types), ` +
                    `or add a subscription with typeFilter ${NEVER_CONFIRMED_EVENT_TYPE}`,
            },
        };
    });
}
