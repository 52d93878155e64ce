import { mayBeStoredAlready } from '../../../shared/instances/storedBefore';

/* When storing an instance may skip reading instance.json: only when nothing can have been stored before. */

const ref = { org: 'ttd', app: 'app', partyId: '1', instanceGuid: 'g', instanceId: '1/g', url: 'u' };
const first = { ref, fields: { attempt: 1 } };
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
    expect(mayBeStoredAlready(unconfirmed, { ref, fields: { attempt: 2 } }, noFeedback)).toBe(true);
    expect(mayBeStoredAlready(unconfirmed, { ref, fields: {} }, noFeedback)).toBe(true);
    expect(mayBeStoredAlready(unconfirmed, first, feedback)).toBe(true);
    expect(mayBeStoredAlready(confirmedByOwner, first, noFeedback)).toBe(true);
});
