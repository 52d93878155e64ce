import { InvalidCloudEventError, parseCloudEvent } from '../../../shared/cloudEvent';
import { viaOf } from '../../../shared/ledger';
import { inboundQueueFor } from '../../../shared/routing';

const event = {
    specversion: '1.0',
    id: 'e1',
    source: 'https://ttd.apps.tt02.altinn.no/ttd/app/instances/1/0f5d3a28-7cde-4d6c-a7a2-2d8d1b2d8a11',
    type: 'app.instance.process.completed',
};

test('unknown extension attributes are kept as received', () => {
    const parsed = parseCloudEvent({ ...event, resource: 'urn:x', custom: { a: 1 } });
    expect(parsed.custom).toEqual({ a: 1 });
    expect(parsed.resource).toBe('urn:x');
});

test('the validation event (no time, no subject) is a valid CloudEvent', () => {
    expect(() =>
        parseCloudEvent({
            specversion: '1.0',
            id: 'v',
            source: 'https://x/1',
            type: 'platform.events.validatesubscription',
        }),
    ).not.toThrow();
});

test.each([null, 1, 'x', [], { ...event, time: 5 }, { ...event, specversion: 1.0 }])('%p is refused', (value) => {
    expect(() => parseCloudEvent(value)).toThrow(InvalidCloudEventError);
});

test('Broker events route to broker-inbound, everything else to events-inbound', () => {
    expect(inboundQueueFor(parseCloudEvent({ ...event, type: 'no.altinn.broker.published' }))).toBe('broker-inbound');
    expect(inboundQueueFor(parseCloudEvent(event))).toBe('events-inbound');
    expect(inboundQueueFor(parseCloudEvent({ ...event, type: 'no.altinn.brokerish' }))).toBe('events-inbound');
});

test('the aosvia marker of catch-up and reconciliation is kept, and says how the event came; without it, the webhook', () => {
    expect(viaOf(parseCloudEvent({ ...event, aosvia: 'reconciliation' }))).toBe('reconciliation');
    expect(viaOf(parseCloudEvent({ ...event, aosvia: 'catchup' }))).toBe('catchup');
    expect(viaOf(parseCloudEvent(event))).toBe('webhook');
    expect(viaOf(parseCloudEvent({ ...event, aosvia: 'something-else' }))).toBe('webhook');
});
