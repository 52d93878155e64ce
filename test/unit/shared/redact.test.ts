import { formatFields } from '../../../shared/log';
import { redactPersonalData, withoutPersonalData } from '../../../shared/redact';

// Made-up numbers in the shape of a national identity number (11 digits); none is a valid one.
const number = ['0101', '5001234'].join('');

describe('redactPersonalData', () => {
    it.each([
        [`/person/${number}`, '/person/[redacted]'],
        [`owner ${number} failed`, 'owner [redacted] failed'],
        [`${number.slice(0, 6)} ${number.slice(6)}`, '[redacted]'],
        [`{"alternativesubject":"/user/ola.nordmann","x":1}`, `{"alternativesubject":"[redacted]","x":1}`],
        [`alternativesubject=/org/991825827 next`, 'alternativesubject=[redacted] next'],
        [`"personNumber": "${number}"`, '"personNumber": "[redacted]"'],
        // URL-encoded, once and twice, as a query or a path segment quotes it.
        [`GET /party?x=%2Fperson%2F${number}&y=1`, 'GET /party?x=%2Fperson%2F[redacted]&y=1'],
        [`%252Fperson%252F${number}`, '%252Fperson%252F[redacted]'],
        [`alternativesubject%3D%2fperson%2f${number}`, 'alternativesubject%3D%2fperson%2f[redacted]'],
        // DDMMYY-NNNNN, DDMMYY NNNNN, and their encoded space.
        [`born ${number.slice(0, 6)}-${number.slice(6)}.`, 'born [redacted].'],
        [`(${number.slice(0, 6)} ${number.slice(6)})`, '([redacted])'],
        [`q=${number.slice(0, 6)}%20${number.slice(6)}`, 'q=[redacted]'],
        [`q=${number.slice(0, 6)}+${number.slice(6)}`, 'q=[redacted]'],
        // Field names in any case, whatever the value looks like.
        [`{"PersonNumber":"12"}`, '{"PersonNumber":"[redacted]"}'],
        [`{"AlternativeSubject": "/user/ola.nordmann"}`, '{"AlternativeSubject": "[redacted]"}'],
        [`SSN=abc def`, 'SSN=[redacted] def'],
        [`{"instanceOwner":{"PERSONNUMBER":"x"}}`, '{"instanceOwner":{"PERSONNUMBER":"[redacted]"}}'],
    ])('%s', (text, expected) => {
        expect(redactPersonalData(text)).toBe(expected);
    });

    it.each([
        ['a GUID whose last group holds 11 digits beside a letter', 'f21e491f-0000-4000-8000-a50123456789'],
        ['a 12-digit run', '501234567890'],
        ['an organisation number', '991825827'],
        ['a party id in an instance id', '50019855/f21e491f-0000-4000-8000-000000000001'],
        ['a time', '2026-12-01T02:00:00.1234567Z'],
        ['a URL escape followed by 12 digits', '%2F501234567890'],
        ['a field whose name only contains a personal one', '{"lastSsnCheck":"ok","subscriptionId":"5"}'],
        ['.NET ticks and a row id', '638400000000000000;12345'],
    ])('leaves %s alone', (_name, text) => {
        expect(redactPersonalData(text)).toBe(text);
    });
});

describe('log lines', () => {
    it('redact fields named personal in any case', () => {
        expect(formatFields('x', { PersonNumber: 'a', SSN: 'b', AlternativeSubject: 'c', instanceId: '1/g' })).toBe(
            'step=x PersonNumber=[redacted] SSN=[redacted] AlternativeSubject=[redacted] instanceId=1/g',
        );
    });

    it('redact text values and personal fields, but not numbers (counts and durations)', () => {
        const line = formatFields('failed', {
            error: `GET … failed: HTTP 500; no party for /person/${number}`,
            alternativesubject: '/user/ola.nordmann',
            bytes: 12345678901,
        });
        expect(line).toBe(
            'step=failed error="GET … failed: HTTP 500; no party for /person/[redacted]" alternativesubject=[redacted] bytes=12345678901',
        );
    });
});

describe('withoutPersonalData', () => {
    it('keeps an error without personal data as it is', () => {
        const error = new TypeError('plain');
        expect(withoutPersonalData(error)).toBe(error);
    });

    it('replaces one that carries an identity number, message and stack redacted, name kept', () => {
        const error = new TypeError(`no party ${number}`);
        const clean = withoutPersonalData(error) as Error;
        expect(clean.message).toBe('no party [redacted]');
        expect(clean.name).toBe('TypeError');
        expect(clean.stack).not.toContain(number);
    });
});
