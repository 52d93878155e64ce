/**
 * The subscription self-check: the files in active-subscriptions say what this system believes it
 * is subscribed to; Altinn's `GET {platform}/events/api/v1/subscriptions` says what Altinn will
 * really push to (altinn-api.md §1.3: every subscription of this consumer, validated or not). A
 * subscription that Altinn no longer has, or that Altinn has still not validated an hour after it
 * was created (Altinn pushes only to validated ones, §1.5), means events silently stop, and so does a
 * Broker subscription whose typeFilter keeps out `fileneverconfirmeddownloaded` (brokerCoverage.ts):
 * each is logged at error and the latest findings are kept in aos-state for the status page.
 *
 * EventsSubscriber runs it on SubscriptionsSchedule ticks that had no request to register, and it
 * asks Altinn at most every ten minutes: the findings change slowly (Altinn caches subscriptions for up to an hour), and an
 * unchanged problem should not become a new error line every minute.
 */
import type { Subscription } from '../altinn/events';
import { redactUrl } from '../altinn/origins';
import { errorMessage, errorStep, warnStep, type StepLogger } from '../log';
import { containers } from '../names';
import type { Storage } from '../storage';
import { readText, writeJson } from './blobs';
import { withBrokerCoverage } from './brokerCoverage';
import { activeBlobs, requestName, type SubscriptionDeps } from './service';

/** The error line for each finding; the alert in infra/app/alerts.bicep matches it. */
export const subscriptionCheckFailedStep = 'subscription-check-failed';
/** The warning when Altinn could not be asked; the findings of the previous check stay. */
export const subscriptionCheckSkippedStep = 'subscription-check-skipped';

/** Where the latest findings are kept, in container aos-state. */
export const subscriptionCheckBlob = 'status/subscription-check.json';

/** How long Altinn may take to validate a new subscription before it counts as a problem. */
export const unvalidatedGraceMs = 60 * 60 * 1000;
/** How often Altinn is asked. */
export const selfCheckIntervalMs = 10 * 60 * 1000;

export type CheckReason = 'gone-in-altinn' | 'unvalidated' | 'unreadable' | 'misses-never-confirmed';

export interface CheckedSubscription {
    /** The file name in active-subscriptions, without .json. */
    name: string;
    id?: number;
    /** Whether Altinn lists it. */
    inAltinn: boolean;
    /** Altinn's validation state; undefined when Altinn does not list it. */
    validated?: boolean;
    created?: string;
    endPoint?: string;
    sourceFilter?: string;
    resourceFilter?: string;
    typeFilter?: string;
    problem?: { reason: CheckReason; detail: string };
}

export interface SubscriptionCheck {
    checkedAt: string;
    subscriptions: CheckedSubscription[];
    /** Subscriptions Altinn has for this consumer that no active-subscriptions file names (informational). */
    unknownToFiles: number[];
}

/** The latest findings, or undefined before the first check. */
export async function readSubscriptionCheck(storage: Storage): Promise<SubscriptionCheck | undefined> {
    const text = await readText(storage.container(containers.state).getBlobClient(subscriptionCheckBlob));
    if (text === undefined) return undefined;
    try {
        return JSON.parse(text) as SubscriptionCheck;
    } catch {
        return undefined;
    }
}

/** Runs the check when the last one is older than {@link selfCheckIntervalMs}; never throws for Altinn's sake. */
export async function checkSubscriptionsIfDue(
    deps: SubscriptionDeps,
    logger: StepLogger,
): Promise<SubscriptionCheck | undefined> {
    const now = deps.now?.() ?? new Date();
    const last = await readSubscriptionCheck(deps.storage);
    if (last && now.getTime() - Date.parse(last.checkedAt) < selfCheckIntervalMs) return undefined;
    try {
        return await checkSubscriptions(deps, logger);
    } catch (error) {
        warnStep(logger, subscriptionCheckSkippedStep, {
            error: errorMessage(error),
            next: 'the next run tries again',
        });
        return undefined;
    }
}

/** Compares active-subscriptions with Altinn, logs each problem at error and stores the findings. */
export async function checkSubscriptions(deps: SubscriptionDeps, logger: StepLogger): Promise<SubscriptionCheck> {
    const now = deps.now?.() ?? new Date();
    const files = await activeBlobs(deps);
    // Nothing to compare without files: Altinn is not asked.
    const listed = files.length === 0 ? [] : await deps.events.listSubscriptions(logger);
    const inAltinn = new Map(listed.map((sub) => [sub.id, sub]));

    const subscriptions = withBrokerCoverage(
        files.map(({ blobName, subscription }) =>
            checkOne(requestName(blobName), subscription, subscription && inAltinn.get(subscription.id), now),
        ),
        deps.config.brokerResources ?? [],
    );
    const named = new Set(subscriptions.map((checked) => checked.id));
    const check: SubscriptionCheck = {
        checkedAt: now.toISOString(),
        subscriptions,
        unknownToFiles: [...inAltinn.keys()].filter((id) => !named.has(id)).sort((a, b) => a - b),
    };
    for (const checked of subscriptions) {
        if (!checked.problem) continue;
        errorStep(logger, subscriptionCheckFailedStep, {
            name: checked.name,
            subscriptionId: checked.id,
            reason: checked.problem.reason,
            detail: checked.problem.detail,
        });
    }
    await writeJson(
        deps.storage.container(containers.state),
        subscriptionCheckBlob,
        `${JSON.stringify(check, null, 2)}\n`,
    );
    return check;
}

function checkOne(
    name: string,
    file: Subscription | undefined,
    altinn: Subscription | undefined,
    now: Date,
): CheckedSubscription {
    if (!file) {
        return {
            name,
            inAltinn: false,
            problem: {
                reason: 'unreadable',
                detail: `active-subscriptions/${name}.json holds no subscription with an id`,
            },
        };
    }
    const shown = {
        name,
        id: file.id,
        endPoint: file.endPoint === undefined ? undefined : redactUrl(file.endPoint),
        sourceFilter: file.sourceFilter,
        resourceFilter: file.resourceFilter,
        typeFilter: file.typeFilter,
    };
    if (!altinn) {
        return {
            ...shown,
            created: file.created,
            inAltinn: false,
            problem: {
                reason: 'gone-in-altinn',
                detail: `Altinn has no subscription ${file.id}: no events are pushed for it; register it again`,
            },
        };
    }
    const created = altinn.created ?? file.created;
    const validated = altinn.validated === true;
    const age = created ? now.getTime() - Date.parse(created) : Number.NaN;
    const overdue = !validated && !(age < unvalidatedGraceMs);
    return {
        ...shown,
        created,
        inAltinn: true,
        validated,
        ...(overdue
            ? {
                  problem: {
                      reason: 'unvalidated' as const,
                      detail: `Altinn has not validated subscription ${file.id} since ${created ?? 'an unknown time'}: its endPoint did not answer the validation event with 2xx`,
                  },
              }
            : {}),
    };
}
