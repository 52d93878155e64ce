/**
 * EventsReceiver: the webhook Altinn Events pushes to. It answers 200 only once the event is
 * durably queued, so that Altinn retries anything this system has not taken over.
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { InvalidCloudEventError, parseCloudEvent } from '../shared/cloudEvent';
import { BodyTooLargeError, readBodyWithLimit } from '../shared/httpBody';
import { errorMessage, errorStep, logStep, warnStep } from '../shared/log';
import { validationEventType } from '../shared/names';
import { problem } from '../shared/problem';
import { inboundQueueFor } from '../shared/routing';
import { getStorage, maxQueuedTextBytes } from '../shared/storage';

export const maxEventBytes = 1024 * 1024;

export async function eventsReceiver(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
    const started = Date.now();
    let body: string;
    try {
        body = await readBodyWithLimit(request, maxEventBytes);
    } catch (error) {
        if (error instanceof BodyTooLargeError) {
            warnStep(context, 'rejected', { reason: 'too-large', limitBytes: maxEventBytes });
            return problem(413, 'Payload Too Large', `A CloudEvent may be at most ${maxEventBytes} bytes.`);
        }
        throw error;
    }

    let event;
    try {
        event = parseCloudEvent(JSON.parse(body));
    } catch (error) {
        const detail =
            error instanceof InvalidCloudEventError
                ? error.detail
                : 'The body is not valid JSON (a structured-mode CloudEvent).';
        warnStep(context, 'rejected', { reason: 'invalid', detail });
        return problem(400, 'Invalid CloudEvent', detail);
    }

    if (event.type === validationEventType) {
        logStep(context, 'validated-subscription', { eventId: event.id, source: event.source });
        return { status: 200, body: 'Subscription validated' };
    }

    const eventBytes = Buffer.byteLength(body);
    if (eventBytes > maxQueuedTextBytes) {
        // A storage queue message holds 64 KiB; an Altinn event is a few hundred bytes, so this is not one.
        errorStep(context, 'rejected', { reason: 'too-large-for-queue', eventId: event.id, bytes: eventBytes });
        return problem(
            413,
            'Payload Too Large',
            `This event is ${eventBytes} bytes; events larger than ${maxQueuedTextBytes} bytes cannot be queued.`,
        );
    }

    const queue = inboundQueueFor(event);
    try {
        // The body exactly as received, so that every attribute and extension reaches the pipeline unchanged.
        await getStorage().enqueue(queue, body);
    } catch (error) {
        errorStep(context, 'queue-failed', { eventId: event.id, queue, error: errorMessage(error) });
        return {
            ...problem(503, 'Service Unavailable', 'The event could not be queued; retry later.'),
            headers: { 'content-type': 'application/problem+json', 'retry-after': '10' },
        };
    }
    logStep(context, 'queued', { eventId: event.id, type: event.type, queue, durationMs: Date.now() - started });
    return { status: 200, body: 'Cloud Event received and pushed to processing queue' };
}

app.http('EventsReceiver', {
    methods: ['POST'],
    authLevel: 'function',
    route: 'eventsreceiver',
    handler: eventsReceiver,
});
