/**
 * Timer schedules with the defaults docs/settings.md documents. The v4 programming model reads a
 * registration's schedule when the function file loads, and the host resolves a '%Setting%'
 * schedule from app settings only, so a documented default would never apply: an unset setting
 * stops the host ("'%CatchUpSchedule%' does not resolve to a value"). Resolving the setting here,
 * at registration, makes the default hold and a malformed value fail start-up naming the setting.
 */
import { ConfigError } from './config';
import { settings, type SettingName, type SettingSpec } from './settings';

type Env = Record<string, string | undefined>;

/** The six NCRONTAB fields with the values each accepts (names as three-letter abbreviations). */
const fields: readonly { name: string; min: number; max: number; names?: readonly string[] }[] = [
    { name: 'second', min: 0, max: 59 },
    { name: 'minute', min: 0, max: 59 },
    { name: 'hour', min: 0, max: 23 },
    { name: 'day', min: 1, max: 31 },
    {
        name: 'month',
        min: 1,
        max: 12,
        names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
    },
    { name: 'day-of-week', min: 0, max: 6, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
];

/** The schedule for a timer: the app setting when set, else its default from shared/settings.ts. */
export function timerSchedule(settingName: SettingName, env: Env = process.env): string {
    const value = env[settingName]?.trim();
    const spec: SettingSpec = settings[settingName];
    const schedule = value ? value : spec.default;
    if (schedule === undefined) {
        throw new ConfigError(settingName, `is required (${spec.description})`);
    }
    const problem = ncrontabProblem(schedule);
    if (problem) {
        throw new ConfigError(
            settingName,
            `"${schedule}" is not a six-field NCRONTAB schedule '{second} {minute} {hour} {day} {month} {day-of-week}': ${problem}`,
        );
    }
    return schedule.replace(/\s+/g, ' ');
}

/** Why `schedule` is not a six-field NCRONTAB expression, or undefined when it is one. */
export function ncrontabProblem(schedule: string): string | undefined {
    const parts = schedule.trim().split(/\s+/);
    if (parts.length !== fields.length) return `it has ${parts.length} fields, not 6`;
    for (const [index, part] of parts.entries()) {
        const field = fields[index];
        for (const item of part.split(',')) {
            const problem = itemProblem(item, field);
            if (problem) return `${field.name} field '${part}': ${problem}`;
        }
    }
    return undefined;
}

function itemProblem(item: string, field: (typeof fields)[number]): string | undefined {
    const match = /^(\*|[0-9A-Za-z]+(?:-[0-9A-Za-z]+)?)(?:\/(\d+))?$/.exec(item);
    if (!match) return `'${item}' is not a value, a range, a list or a step`;
    const [, range, step] = match;
    if (step !== undefined && Number(step) < 1) return `step '${step}' must be at least 1`;
    if (range === '*') return undefined;
    const bounds = range.split('-').map((text) => fieldValue(text, field));
    if (bounds.some((value) => value === undefined)) {
        return `'${range}' is outside ${field.min}-${field.max}`;
    }
    const [from, to = from] = bounds as number[];
    return from > to ? `range '${range}' runs backwards` : undefined;
}

function fieldValue(text: string, field: (typeof fields)[number]): number | undefined {
    const named = field.names?.indexOf(text.toUpperCase()) ?? -1;
    if (named >= 0) return field.min + named;
    if (!/^\d+$/.test(text)) return undefined;
    const value = Number(text);
    return value >= field.min && value <= field.max ? value : undefined;
}
