/**
 * Personal data stays out of logs, recorded failures and the poison listing. What this system
 * handles that identifies a person: the national identity number (fødselsnummer or D-number, 11
 * digits, sometimes written 6 + 5) in an instance's instanceOwner.personNumber and in an event's
 * alternativesubject (`/person/{number}`), and the alternativesubject itself, which for other
 * users is a user name. Everything that prints outside text (Altinn's error bodies, error
 * messages, log values) passes through redactPersonalData.
 */

export const redacted = '[redacted]';

/**
 * 11 digits, or 6 + 5 with a space, a hyphen or their URL-encoded forms between (DDMMYY NNNNN,
 * DDMMYY-NNNNN, `%20`, `+`), standing alone. Letters and digits around it mean it is part of
 * something else (a GUID's last group, 12 hex characters, can hold 11 digits next to a letter),
 * except a URL escape just before it: `%2Fperson%2F{number}` (once or twice encoded) is still one.
 */
const identityNumber =
    /(?:(?<=%(?:25)*[0-9A-Fa-f]{2})|(?<![0-9A-Za-z]))(?:\d{11}|\d{6}(?:[ \u00a0+-]|%(?:25)*20)\d{5})(?![0-9A-Za-z])/g;

/** Field names whose values are always personal data, whatever they look like (compared in any case). */
const personalFieldNames = [
    'alternativesubject',
    'personNumber',
    'ssn',
    'nationalIdentityNumber',
    'fodselsnummer',
    'fødselsnummer',
];

/**
 * Such a field with its value, in JSON (`"ssn":"…"`), logfmt or a query (`ssn=…`), in any case
 * (`PersonNumber`, `AlternativeSubject`, `SSN`).
 */
const personalMember = new RegExp(
    `((?:"|(?<![\\p{L}\\p{N}_]))(?:${personalFieldNames.join('|')})"?\\s*[:=]\\s*)("(?:[^"\\\\]|\\\\.)*"|[^\\s,;}&]+)`,
    'giu',
);

const personalFields: ReadonlySet<string> = new Set(personalFieldNames.map((name) => name.toLowerCase()));

/** Whether a field of this name holds personal data, in whatever case it is written. */
export function isPersonalField(name: string): boolean {
    return personalFields.has(name.toLowerCase());
}

export function redactPersonalData(text: string): string {
    return text
        .replace(personalMember, (_whole, name: string, value: string) =>
            value.startsWith('"') ? `${name}"${redacted}"` : `${name}${redacted}`,
        )
        .replace(identityNumber, redacted);
}

/**
 * The error to hand to the Functions host, which prints its message and stack: the same error
 * when its message carries no personal data, otherwise a plain Error with the message redacted
 * (and the original's name), so that the host's own exception line leaks nothing either.
 */
export function withoutPersonalData(error: unknown): unknown {
    if (!(error instanceof Error)) return error;
    const message = redactPersonalData(error.message);
    if (message === error.message) return error;
    const clean = new Error(message);
    clean.name = error.name;
    return clean;
}
