/**
 * Names that users, deployments and tests depend on (pinned in DESIGN.md). Bicep provisions
 * exactly these; change them only together with infra/ and the README.
 */
export const queues = {
    eventsInbound: 'events-inbound',
    eventsFeedback: 'events-feedback',
    eventsConfirmation: 'events-confirmation',
    brokerInbound: 'broker-inbound',
} as const;

export type QueueName = (typeof queues)[keyof typeof queues];

export function poisonQueueOf(queue: string): string {
    return `${queue}-poison`;
}

export const containers = {
    inbound: 'inbound',
    broker: 'broker',
    addSubscriptions: 'add-subscriptions',
    removeSubscriptions: 'remove-subscriptions',
    activeSubscriptions: 'active-subscriptions',
    failedSubscriptions: 'failed-subscriptions',
    state: 'aos-state',
} as const;

export type ContainerName = (typeof containers)[keyof typeof containers];

export const tables = {
    /** Every instance and Broker file the system has seen, and the last reconciliation and catch-up runs (shared/ledger). */
    ledger: 'ledger',
} as const;

export type TableName = (typeof tables)[keyof typeof tables];

/** The app setting every trigger binding uses for its storage connection. */
export const storageConnection = 'AzureWebJobsStorage';

export const validationEventType = 'platform.events.validatesubscription';
