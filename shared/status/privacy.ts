/**
 * The report passes through redaction as a whole before anyone sees it: its texts come from many
 * places (the ledger's last failures, recorded poison reasons, subscription refusals, Altinn's
 * answers), and a person number in any of them must not reach the page, the JSON or `aos status`,
 * even when it was stored before its writer redacted.
 */
import { redactPersonalData } from '../redact';

export function redactTexts<T>(value: T): T {
    if (typeof value === 'string') return redactPersonalData(value) as T;
    if (Array.isArray(value)) return value.map((item: unknown) => redactTexts(item)) as T;
    if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
        return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactTexts(item)])) as T;
    }
    return value;
}
