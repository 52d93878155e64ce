import type { CloudEvent } from '../../../shared/cloudEvent';
import { mayBeStoredAlready } from '../../../shared/instances/storedBefore';

/* When storing an instance may skip reading instance.json: only when nothing can have been stored before. */

const ref = { org: 'ttd', app: 'app', partyId: '1', instanceGuid: 'g', instanceId: '1/g', url: 'u' };
const event: CloudEvent = { specversion: '1.0', id: 'e', source: 'u', type: 'app.instance.process.completed' };
const first = { ref, event, fields: { attempt: 1 } };
const noFeedback = { feedback: undefined };
const feedback = {
    feedback: {
        eventType: 'app.instance.process.movedTo.Task_2',
        dataType: 'feedback',
        contentType: 'application/xml',
    },
};
const unconfirmed = { completeConfirmations: null };
const confirmedByOwner = { completeConfirmations: [{ stakeholderId: 'TTD', confirmedOn: '2026-01-01T00:00:00Z' }] };
const confirmedByOther = { completeConfirmations: [{ stakeholderId: 'skd', confirmedOn: '2026-01-01T00:00:00Z' }] };

test('the first delivery of an instance nobody confirmed, without feedback, reads nothing', () => {
    expect(mayBeStoredAlready(unconfirmed, first, noFeedback)).toBe(false);
    expect(mayBeStoredAlready({}, first, noFeedback)).toBe(false);
    // Another org's confirmation says nothing about this owner's store.
    expect(mayBeStoredAlready(confirmedByOther, first, noFeedback)).toBe(false);
});

test('a retry, an unknown attempt, feedback or the owner’s own complete mean the store must be read', () => {
    expect(mayBeStoredAlready(unconfirmed, { ref, event, fields: { attempt: 2 } }, noFeedback)).toBe(true);
    expect(mayBeStoredAlready(unconfirmed, { ref, event, fields: {} }, noFeedback)).toBe(true);
    expect(mayBeStoredAlready(unconfirmed, first, feedback)).toBe(true);
    expect(mayBeStoredAlready(confirmedByOwner, first, noFeedback)).toBe(true);
});

test('an event from catch-up or reconciliation may be about an instance stored before: the store is read', () => {
    for (const aosvia of ['catchup', 'reconciliation']) {
        expect(mayBeStoredAlready(unconfirmed, { ...first, event: { ...event, aosvia } }, noFeedback)).toBe(true);
    }
    // An attribute that is not one of ours counts as the webhook.
    expect(mayBeStoredAlready(unconfirmed, { ...first, event: { ...event, aosvia: 'x' } }, noFeedback)).toBe(false);
});
