import type { CloudEvent } from './cloudEvent';
import { queues, type QueueName } from './names';

/** Broker events go to their own queue; everything else is an app event for the instance pipeline. */
export function inboundQueueFor(event: CloudEvent): QueueName {
    return event.type.startsWith('no.altinn.broker.') ? queues.brokerInbound : queues.eventsInbound;
}
