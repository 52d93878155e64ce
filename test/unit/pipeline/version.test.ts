import { compareChangeTimes, confirmedBy, hasEnded, instanceVersion } from '../../../shared/instances/version';

const element = (id: string, lastChanged: string, size = 10) => ({ id, dataType: 'model', lastChanged, size });
const ended = { ended: '2026-12-01T10:00:00Z', currentTask: null };

describe('the version of an instance', () => {
    it('is the same for the same data in any order, whatever else in the document moved', () => {
        const a = instanceVersion({ process: ended, data: [element('A', 't1'), element('B', 't2')] });
        expect(a).toMatch(/^[0-9a-f]{64}$/);
        expect(instanceVersion({ process: ended, data: [element('b', 't2'), element('A', 't1')] })).toBe(a);
    });

    it('changes with an element added, changed or resized, and when the process ends', () => {
        const base = { process: { currentTask: { elementId: 'Task_2' } }, data: [element('A', 't1')] };
        const versions = [
            instanceVersion(base),
            instanceVersion({ ...base, data: [element('A', 't1'), element('B', 't1')] }),
            instanceVersion({ ...base, data: [element('A', 't2')] }),
            instanceVersion({ ...base, data: [element('A', 't1', 11)] }),
            instanceVersion({ ...base, process: ended }),
        ];
        expect(new Set(versions).size).toBe(versions.length);
    });
});

describe("Altinn's times", () => {
    it('order by the digits beyond the millisecond, and a missing time comes first', () => {
        expect(compareChangeTimes('2026-12-01T10:00:00.1234567Z', '2026-12-01T10:00:00.1234568Z')).toBeLessThan(0);
        expect(compareChangeTimes('2026-12-01T10:00:00.124Z', '2026-12-01T10:00:00.1239999Z')).toBeGreaterThan(0);
        expect(compareChangeTimes('2026-12-01T10:00:00.5Z', '2026-12-01T10:00:00.500000Z')).toBe(0);
        expect(compareChangeTimes('2026-12-01T11:00:00+01:00', '2026-12-01T10:00:00Z')).toBe(0);
        expect(compareChangeTimes(undefined, '2026-12-01T10:00:00Z')).toBeLessThan(0);
        expect(compareChangeTimes('not a time', null)).toBe(0);
    });
});

describe('what the document says', () => {
    it('ended only with process.ended, confirmed only by the org itself', () => {
        expect(hasEnded(ended)).toBe(true);
        expect(hasEnded({ currentTask: null })).toBe(false);
        expect(hasEnded(undefined)).toBe(false);
        const confirmations = [{ stakeholderId: 'other' }, { stakeholderId: 'TTD', confirmedOn: 'x' }];
        expect(confirmedBy({ completeConfirmations: confirmations }, 'ttd')).toBe(true);
        expect(confirmedBy({ completeConfirmations: confirmations.slice(0, 1) }, 'ttd')).toBe(false);
        expect(confirmedBy({ completeConfirmations: null }, 'ttd')).toBe(false);
    });
});
