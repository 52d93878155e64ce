import { ConfigError } from '../../../shared/config';
import { ncrontabProblem, timerSchedule } from '../../../shared/schedules';
import { settings } from '../../../shared/settings';

test('an unset or blank schedule setting takes the default of shared/settings.ts', () => {
    expect(timerSchedule('CatchUpSchedule', {})).toBe(settings.CatchUpSchedule.default);
    expect(timerSchedule('SubscriptionsSchedule', { SubscriptionsSchedule: '  ' })).toBe(
        settings.SubscriptionsSchedule.default,
    );
});

test('a set schedule wins over the default, with its whitespace normalised', () => {
    expect(timerSchedule('CatchUpSchedule', { CatchUpSchedule: ' 0  */15 * * * MON-FRI ' })).toBe(
        '0 */15 * * * MON-FRI',
    );
});

test.each([
    ['five-field cron', '*/5 * * * *', /has 5 fields, not 6/],
    ['a TimeSpan', '00:05:00', /has 1 fields, not 6/],
    ['a minute out of range', '0 60 * * * *', /minute field '60': '60' is outside 0-59/],
    ['an unknown day name', '0 0 9 * * MOX', /day-of-week field 'MOX'/],
    ['a zero step', '0 */0 * * * *', /step '0' must be at least 1/],
    ['a backwards range', '0 0 17-9 * * *', /range '17-9' runs backwards/],
    ['garbage', '0 0 9 * * ?', /'\?' is not a value/],
])('%s stops start-up with an error naming the setting', (_case, value, detail) => {
    let error: unknown;
    try {
        timerSchedule('CatchUpSchedule', { CatchUpSchedule: value });
    } catch (caught) {
        error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).setting).toBe('CatchUpSchedule');
    expect((error as ConfigError).message).toMatch(/^Setting CatchUpSchedule: /);
    expect((error as ConfigError).message).toMatch(detail);
});

test('every schedule default in the catalogue is itself a valid six-field schedule', () => {
    const schedules = Object.entries(settings).filter(([name]) => name.endsWith('Schedule'));
    expect(schedules.length).toBeGreaterThan(0);
    for (const [name, spec] of schedules) {
        expect([name, ncrontabProblem((spec as { default?: string }).default ?? '')]).toEqual([name, undefined]);
    }
});

test('lists, names and steps that the host accepts pass', () => {
    for (const schedule of ['0 0,30 8-16 * JAN-DEC 1-5', '*/10 * * 1 * SUN', '0 5/15 * * * *', '0 0 0 31 12 6']) {
        expect([schedule, ncrontabProblem(schedule)]).toEqual([schedule, undefined]);
    }
});
