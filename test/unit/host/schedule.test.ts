import { nextOccurrence, parseSchedule } from '../../../dev/host/schedule';
import { usesMonitor } from '../../../dev/host/timerScheduler';

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

describe('which timers keep their status in storage (useMonitor unset)', () => {
    // The cases of ShouldDisableScheduleMonitor_ReturnsExpectedValue in Azure/azure-webjobs-sdk-extensions
    // test/WebJobs.Extensions.Tests/Extensions/Timers/Scheduling/TimerScheduleTests.cs: the monitor is off only
    // for a schedule that fires more than once a minute with every other field matching everything.
    // "Disable" there is "not monitored" here; the cases without a time ran at the test's own now.
    const now = new Date('2020-10-30T10:11:12.345Z');
    test.each([
        ['* * * * * *', undefined, false],
        ['*/5 * * * * *', undefined, false],
        ['  */5    * *      * * *', undefined, false],
        ['10,20,45 * * * * *', undefined, false],
        ['0 */5 * * * *', undefined, true],
        ['0 30 * * * *', undefined, true],
        ['* 30 * * * *', undefined, true],
        ['* */30 * * * *', undefined, true],
        ['0 * * * * *', undefined, true],
        ['30 * * * * *', undefined, true],
        ['* 1-5 * * * *', undefined, true],
        ['* */20 * * * *', '2020-10-30T00:00:00Z', true],
        ['* */20 * * * *', '2020-10-30T00:20:00Z', true],
        ['* */20 * * * *', '2020-10-30T00:15:00Z', true],
        ['* */20 * * * *', '2020-10-30T00:19:30Z', true],
        ['* * 12 * * Mon', undefined, true],
        ['* 59 11 * * 1,2,3,4,5', undefined, true],
        // Ours: the bench's and tests' "never" schedule.
        ['0 0 0 1 1 *', undefined, true],
    ])('%s at %s: monitored %s', (expression, at, monitored) => {
        expect(usesMonitor(parseSchedule(expression), undefined, at ? new Date(at) : now)).toBe(monitored);
    });

    test('a TimeSpan is monitored from a minute on; useMonitor overrides either way', () => {
        expect(usesMonitor(parseSchedule('00:00:59'), undefined, now)).toBe(false);
        expect(usesMonitor(parseSchedule('00:01:00'), undefined, now)).toBe(true);
        expect(usesMonitor(parseSchedule('0 0 0 1 1 *'), false, now)).toBe(false);
        expect(usesMonitor(parseSchedule('*/10 * * * * *'), true, now)).toBe(true);
    });
});
