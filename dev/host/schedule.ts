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

/** The first occurrence strictly after `after`. */
export function nextOccurrence(schedule: Schedule, after: Date): Date {
    if (schedule.kind === 'interval') return new Date(after.getTime() + schedule.intervalMs);
    return CronExpressionParser.parse(schedule.expression, { currentDate: after, tz: schedule.timeZone })
        .next()
        .toDate();
}
