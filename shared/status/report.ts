/**
 * What the status API answers (JSON) and the status page shows: one snapshot of "what did we
 * receive, what is waiting, is anything stuck". Dates are ISO strings so that the JSON is the
 * same whether it is read by a script or rendered as HTML.
 */

import type { RecoveryStatus } from './recoveryPart';

/** How far back "received, stored, confirmed" count. */
export const statusWindowHours = 24;

export interface ScopeStatus {
    kind: 'instance' | 'brokerFile';
    /** `{org}/{app}`, or a Broker resource id. */
    scope: string;
    /** First seen in the window. */
    received: number;
    stored: number;
    confirmed: number;
    /** Seen and not yet confirmed, at any age. */
    unconfirmed: number;
    /** Age of the oldest unconfirmed one, from when it was first seen. */
    oldestUnconfirmedHours?: number;
    oldestUnconfirmedId?: string;
    /** Unconfirmed ones whose message went to a poison queue. */
    poisoned: number;
}

/** How long the page lists a Broker file that Broker reported as never confirmed by us. */
export const neverConfirmedWindowDays = 30;

/** A Broker file Broker purged without our confirmation (`fileneverconfirmeddownloaded`). */
export interface NeverConfirmedFileStatus {
    fileTransferId: string;
    resourceId: string;
    /** When Broker reported it (the event's time). */
    at: string;
    /** Whether we had stored it (then only the confirmation failed). */
    stored: boolean;
    poisoned: boolean;
}

/** How long a confirmed instance may wait for its hand-off before it is counted (and, by default, alerted on). */
export const notHandedOffHours = 1;

/** An instance confirmed in Altinn more than `notHandedOffHours` ago whose hand-off message was never sent. */
export interface NotHandedOffStatus {
    instanceId: string;
    /** `{org}/{app}` */
    app: string;
    confirmedAt: string;
    /** Hours since it was confirmed. */
    hours: number;
    poisoned: boolean;
}

/** How long the page lists an instance found not ended (and not confirmed since). */
export const notEndedWindowDays = 30;

/** A completed event (or feedback) found the process not ended: nothing was confirmed. */
export interface NotEndedStatus {
    instanceId: string;
    app: string;
    /** When it was recorded. */
    at: string;
    /** Where the process stood: the task, or "no task". */
    task?: string;
    eventId?: string;
}

/** Per app, instances settled without a confirmation (shared/status/settledPart.ts), at any age. */
export interface SettledStatus {
    /** `{org}/{app}`. */
    scope: string;
    /** Altinn answered 404: nothing left to store or confirm. */
    gone: number;
    /** The app is not in AcceptedApps: the event is in a poison queue with the reason. */
    refused: number;
    /** The most recently settled one. */
    latestId?: string;
    latestAt?: string;
}

export interface RunStatus {
    kind: 'reconciliation' | 'catchup';
    subject: string;
    at: string;
    found?: number;
    queued: number;
    unconfirmed?: number;
    oldestUnconfirmedHours?: number;
    error?: string;
}

/** The Events catch-up cursor of one app (aos-state/catch-up/{org}/{app}.json). */
export interface CatchUpCursorStatus {
    app: string;
    /** When the cursor last moved (or was created). */
    updated?: string;
    /** The last event queued; absent before the first event. */
    after?: string;
    from?: string;
}

export interface PoisonQueueStatus {
    queue: string;
    poisonQueue: string;
    /** Storage's approximate message count. */
    messages: number;
}

export interface ActiveSubscriptionStatus {
    name: string;
    id?: number;
    /** The filter that says what it is for: sourceFilter, or resourceFilter. */
    filter?: string;
    typeFilter?: string;
    /** From the latest self-check; undefined before the first one. */
    validated?: boolean;
    inAltinn?: boolean;
    problem?: string;
}

export interface FailedSubscriptionStatus {
    name: string;
    operation?: string;
    failedAt?: string;
    reason: string;
}

export interface PendingSubscriptionStatus {
    name: string;
    operation: 'add' | 'remove';
}

export interface SubscriptionsStatus {
    active: ActiveSubscriptionStatus[];
    failed: FailedSubscriptionStatus[];
    pending: PendingSubscriptionStatus[];
    /** When the self-check last asked Altinn. */
    checkedAt?: string;
    /** Subscriptions Altinn has for this system that no active-subscriptions file names. */
    unknownToFiles: number[];
}

export interface StatusReport {
    generatedAt: string;
    windowHours: number;
    apps: ScopeStatus[];
    /** Instances out of the not-confirmed count because Altinn no longer has them or they were refused. */
    settled: SettledStatus[];
    brokerResources: ScopeStatus[];
    /** Broker files purged unconfirmed in the last `neverConfirmedWindowDays` days, newest first. */
    neverConfirmedFiles: NeverConfirmedFileStatus[];
    /** Instances confirmed more than `notHandedOffHours` ago and never handed off, oldest first. */
    notHandedOff: NotHandedOffStatus[];
    /** Instances found not ended in the last `notEndedWindowDays` days and not confirmed since, newest first. */
    processNotEnded: NotEndedStatus[];
    runs: RunStatus[];
    catchUpCursors: CatchUpCursorStatus[];
    poisonQueues: PoisonQueueStatus[];
    subscriptions: SubscriptionsStatus;
    /** Whether lost webhook pushes are recovered (recoveryPart.ts); absent when the settings are not known. */
    recovery?: RecoveryStatus;
    /** What needs a person: one sentence each. Empty when all is well. */
    attention: string[];
    /** Parts that could not be read (the rest of the report stands). */
    unavailable: { part: string; error: string }[];
}
