/**
 * Names that users, deployments and tests depend on (pinned in DESIGN.md). Bicep provisions
 * exactly these; change them only together with infra/ and the docs (docs/deploy.md lists them).
 */
export const queues = {
    eventsInbound: 'events-inbound',
    eventsFeedback: 'events-feedback',
    eventsConfirmation: 'events-confirmation',
    /** An instance whose substatus could not be set right after complete waits here, so that complete is not repeated. */
    eventsSubstatus: 'events-substatus',
    brokerInbound: 'broker-inbound',
    /** The hand-off to the owner's case systems: one message per confirmed instance or Broker file (docs/instances-received.schema.json). */
    instancesReceived: 'instances-received',
    /** Files to send through Broker: one send request per file in broker-outbound (docs/broker-send.schema.json). */
    brokerSend: 'broker-send',
    /** Back to the case systems: one message per sent file that reached a final state (docs/broker-sent.schema.json). */
    brokerSent: 'broker-sent',
} as const;

export type QueueName = (typeof queues)[keyof typeof queues];

export function poisonQueueOf(queue: string): string {
    return `${queue}-poison`;
}

export const containers = {
    inbound: 'inbound',
    broker: 'broker',
    /** Files the owner sends through Broker, each named by a send request on queue broker-send. */
    brokerOutbound: 'broker-outbound',
    /** Data elements Altinn's malware scan found Infected, at the same paths as in inbound. */
    quarantine: 'quarantine',
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
