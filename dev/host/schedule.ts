/**
 * Timer schedules as the Functions host accepts them: a six-field NCRONTAB expression
 * `{second} {minute} {hour} {day} {month} {day-of-week}` (evaluated in UTC unless the app
 * setting WEBSITE_TIME_ZONE names a time zone), or a TimeSpan interval such as `00:05:00`.
 * cron-parser does the calendar arithmetic; five-field cron is refused, as in the host.
 */
import { CronExpressionParser } from 'cron-parser';
import { parseTimeSpan } from './hostJson';
import { errorMessage } from './log';

export type Schedule =
    | { readonly kind: 'cron'; readonly expression: string; readonly timeZone: string }
    | { readonly kind: 'interval'; readonly intervalMs: number };

export function parseSchedule(text: string, timeZone = 'UTC'): Schedule {
    const expression = text.trim().replace(/\s+/g, ' ');
    if (/^(?:\d+\.)?\d{1,2}:\d{1,2}(?::\d{1,2}(?:\.\d+)?)?$/.test(expression)) {
        const intervalMs = parseTimeSpan(expression, 'schedule');
        if (intervalMs <= 0) throw new Error(`The schedule '${text}' is a zero interval.`);
        return { kind: 'interval', intervalMs };
    }
    const fields = expression.split(' ');
    if (fields.length !== 6) {
        throw new Error(
            `The schedule '${text}' is not a six-field NCRONTAB expression '{second} {minute} {hour} {day} {month} {day-of-week}' or a TimeSpan.`,
        );
    }
    try {
        CronExpressionParser.parse(expression, { tz: timeZone, strict: false }).next();
    } catch (error) {
        throw new Error(`The schedule '${text}' was not recognized: ${errorMessage(error)}`, { cause: error });
    }
    return { kind: 'cron', expression, timeZone };
}

/**
 * Whether every field but the seconds matches every value (as NCrontab prints such a field: `*`),
 * so that the schedule fires within every minute.
 */
export function matchesEveryMinute(schedule: Schedule & { kind: 'cron' }): boolean {
    const { fields } = CronExpressionParser.parse(schedule.expression, { tz: schedule.timeZone, strict: false });
    // A day field may also hold `L` (last), which is not a value of its own.
    const everyValue = (values: readonly (number | string)[], count: number, first = 0): boolean =>
        new Set(values.filter((value) => typeof value === 'number').map((value) => (value - first) % count)).size ===
        count;
    return (
        everyValue(fields.minute.values, 60) &&
        everyValue(fields.hour.values, 24) &&
        everyValue(fields.dayOfMonth.values, 31, 1) &&
        everyValue(fields.month.values, 12, 1) &&
        everyValue(fields.dayOfWeek.values, 7)
    );
}

/** The first occurrence strictly after `after`. */
export function nextOccurrence(schedule: Schedule, after: Date): Date {
    if (schedule.kind === 'interval') return new Date(after.getTime() + schedule.intervalMs);
    return CronExpressionParser.parse(schedule.expression, { currentDate: after, tz: schedule.timeZone })
        .next()
        .toDate();
}
