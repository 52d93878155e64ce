import { nextOccurrence, parseSchedule } from '../../../dev/host/schedule';

test('six-field NCRONTAB expressions, evaluated in UTC by default', () => {
    const schedule = parseSchedule('0 */5 * * * *');
    expect(nextOccurrence(schedule, new Date('2026-01-01T10:02:03Z')).toISOString()).toBe('2026-01-01T10:05:00.000Z');
    const everyTwoSeconds = parseSchedule('*/2 * * * * *');
    expect(nextOccurrence(everyTwoSeconds, new Date('2026-01-01T10:00:00.000Z')).toISOString()).toBe(
        '2026-01-01T10:00:02.000Z',
    );
    const weekdays = parseSchedule('0 30 9 * * 1-5');
    // 2026-01-03 is a Saturday: the next weekday 09:30 is Monday the 5th.
    expect(nextOccurrence(weekdays, new Date('2026-01-03T00:00:00Z')).toISOString()).toBe('2026-01-05T09:30:00.000Z');
});

test('a time zone shifts the occurrences (WEBSITE_TIME_ZONE)', () => {
    const schedule = parseSchedule('0 0 2 * * *', 'Europe/Oslo');
    expect(nextOccurrence(schedule, new Date('2026-01-01T00:00:00Z')).toISOString()).toBe('2026-01-01T01:00:00.000Z');
});

test('TimeSpan schedules are intervals', () => {
    const schedule = parseSchedule('00:00:30');
    expect(schedule).toEqual({ kind: 'interval', intervalMs: 30_000 });
    expect(nextOccurrence(schedule, new Date('2026-01-01T00:00:00Z')).toISOString()).toBe('2026-01-01T00:00:30.000Z');
});

test('five-field cron and nonsense are refused, as by the host', () => {
    expect(() => parseSchedule('*/5 * * * *')).toThrow(/six-field NCRONTAB/);
    expect(() => parseSchedule('a b c d e f')).toThrow(/was not recognized/);
});
