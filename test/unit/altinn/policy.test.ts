import { ForeignOriginError, assertAllowedOrigin, redactUrl } from '../../../shared/altinn/origins';
import { backoffDelay, errorCode, isIdempotent, parseRetryAfter } from '../../../shared/altinn/retry';

const config = {
    platformBaseUrl: 'https://platform.tt02.altinn.no',
    appsBaseUrl: 'https://ttd.apps.tt02.altinn.no',
    maskinporten: { baseUrl: 'https://test.maskinporten.no' },
};

describe('assertAllowedOrigin', () => {
    it.each([
        'https://platform.tt02.altinn.no/storage/api/v1/instances/1/2/data/3',
        'https://ttd.apps.tt02.altinn.no/ttd/app/instances/1/2',
        'https://test.maskinporten.no/token',
    ])('allows %s', (url) => {
        expect(assertAllowedOrigin(url, config).href).toBe(url);
    });

    it.each([
        ['another host', 'https://evil.example/ttd/app'],
        ['a look-alike host', 'https://platform.tt02.altinn.no.evil.example/x'],
        ['user info hiding the host', 'https://platform.tt02.altinn.no@evil.example/x'],
        ['credentials on an allowed host', 'https://user:pw@platform.tt02.altinn.no/x'],
        ['another port', 'https://platform.tt02.altinn.no:8443/x'],
        ['plain http', 'http://platform.tt02.altinn.no/x'],
        ['another scheme', 'file:///etc/passwd'],
        ['a relative URL', '/storage/api/v1/instances'],
    ])('refuses %s', (_label, url) => {
        expect(() => assertAllowedOrigin(url, config)).toThrow(ForeignOriginError);
    });

    it('does not repeat credentials or query secrets in the error', () => {
        const error = (() => {
            try {
                assertAllowedOrigin('https://user:hunter2@evil.example/x?sig=abc123', config);
            } catch (e) {
                return e as Error;
            }
        })();
        expect(error?.message).toContain('https://evil.example/x');
        expect(error?.message).not.toMatch(/hunter2|abc123/);
    });
});

describe('redactUrl', () => {
    it('keeps the path and harmless parameters, hides secret-looking ones', () => {
        expect(redactUrl('https://h.example/a/b?dataType=feedback&code=s3cr3t&sig=x&after=1')).toBe(
            'https://h.example/a/b?dataType=feedback&code=***&sig=***&after=1',
        );
    });
});

describe('parseRetryAfter', () => {
    const now = Date.UTC(2026, 0, 1, 12, 0, 0);

    it('reads delta seconds and HTTP dates', () => {
        expect(parseRetryAfter('3', now)).toBe(3000);
        expect(parseRetryAfter('Thu, 01 Jan 2026 12:00:10 GMT', now)).toBe(10_000);
        expect(parseRetryAfter('Thu, 01 Jan 2026 11:00:00 GMT', now)).toBe(0);
    });

    it('ignores what it cannot read', () => {
        expect(parseRetryAfter(undefined, now)).toBeUndefined();
        expect(parseRetryAfter('soon', now)).toBeUndefined();
        expect(parseRetryAfter('-1', now)).toBeUndefined();
    });
});

describe('backoff and classification', () => {
    it('grows exponentially with full jitter, capped', () => {
        const options = { baseDelayMs: 100, maxDelayMs: 1000 };
        expect(backoffDelay(0, options, () => 0.999)).toBe(99);
        expect(backoffDelay(3, options, () => 0.5)).toBe(400);
        expect(backoffDelay(10, options, () => 0.999)).toBe(999);
        expect(backoffDelay(2, options, () => 0)).toBe(0);
    });

    it('finds the error code behind causes and AggregateErrors', () => {
        const refused = Object.assign(new Error('connect'), { code: 'ECONNREFUSED' });
        expect(errorCode(new TypeError('fetch failed', { cause: refused }))).toBe('ECONNREFUSED');
        expect(errorCode(new AggregateError([new Error('x'), refused]))).toBe('ECONNREFUSED');
        expect(errorCode(new Error('plain'))).toBeUndefined();
    });

    it('treats GET, PUT and DELETE as idempotent, POST not', () => {
        expect(['GET', 'put', 'DELETE', 'HEAD'].every(isIdempotent)).toBe(true);
        expect(isIdempotent('POST')).toBe(false);
        expect(isIdempotent('PATCH')).toBe(false);
    });
});
