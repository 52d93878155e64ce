import type { IncomingHttpHeaders } from 'node:http';
import { AltinnHttpError } from '../../../shared/altinn/errors';
import { createEventsApi, isRefusal, UnexpectedResponseError } from '../../../shared/altinn/events';
import type { AltinnHttp, BufferedRequest } from '../../../shared/altinn/http';
import { assertAllowedOrigin } from '../../../shared/altinn/origins';
import { catchUpTypes } from '../../../shared/catchUp/catchUp';

const config = {
    platformBaseUrl: 'https://platform.tt02.altinn.no',
    appsBaseUrl: 'https://ttd.apps.tt02.altinn.no',
    maskinporten: { baseUrl: 'https://test.maskinporten.no' },
};

/** An AltinnHttp that answers every JSON request with the given body and headers, and records the requests. */
function stubHttp(json: unknown, headers: IncomingHttpHeaders = {}) {
    const requests: BufferedRequest[] = [];
    const http = {
        requestJson: (request: BufferedRequest) => {
            requests.push(request);
            return Promise.resolve({ status: 200, headers, json });
        },
        assertAllowedOrigin: (url: string | URL) => assertAllowedOrigin(url, config),
    } as unknown as AltinnHttp;
    return { http, requests };
}

describe('the query URL', () => {
    const api = createEventsApi(stubHttp([]).http, config);

    it('after wins over from; types repeat; size is set', () => {
        const url = new URL(
            api.appEventsUrl('ttd', 'apps-test', {
                after: 'e1',
                from: new Date('2026-01-01T00:00:00Z'),
                types: ['app.instance.process.completed', 'app.instance.process.movedTo.Task_2'],
                size: 100,
            }),
        );
        expect(`${url.origin}${url.pathname}`).toBe('https://platform.tt02.altinn.no/events/api/v1/app/ttd/apps-test');
        expect(url.searchParams.get('after')).toBe('e1');
        expect(url.searchParams.has('from')).toBe(false);
        expect(url.searchParams.getAll('type')).toEqual([
            'app.instance.process.completed',
            'app.instance.process.movedTo.Task_2',
        ]);
        expect(url.searchParams.get('size')).toBe('100');
    });

    it('from is an ISO time with a zone when there is no cursor', () => {
        const url = new URL(api.appEventsUrl('ttd', 'a', { from: new Date('2026-01-01T00:00:00Z') }));
        expect(url.searchParams.get('from')).toBe('2026-01-01T00:00:00.000Z');
    });
});

describe('the next link', () => {
    const queried = 'https://platform.tt02.altinn.no/events/api/v1/app/ttd/a?after=e1&size=50';
    const query = (next: string) =>
        createEventsApi(stubHttp([{ id: 'e2' }], { next }).http, config).queryAppEvents(queried);

    it('is followed on the platform origin', async () => {
        const next = 'https://platform.tt02.altinn.no/events/api/v1/app/ttd/a?after=e2&size=50';
        await expect(query(next)).resolves.toEqual({ events: [{ id: 'e2' }], next });
    });

    it('is followed in the form this system writes when it differs only in form: case, a doubled slash', async () => {
        const expected = 'https://platform.tt02.altinn.no/events/api/v1/app/ttd/a?after=e2&size=50';
        for (const next of [
            'HTTPS://Platform.TT02.altinn.no/events/api/v1/app/ttd/a?after=e2&size=50',
            'https://platform.tt02.altinn.no//events/api/v1/app/ttd/a?after=e2&size=50',
            'https://platform.tt02.altinn.no:443/events/api/v1/app/ttd/a?after=e2&size=50',
        ]) {
            await expect(query(next)).resolves.toEqual({ events: [{ id: 'e2' }], next: expected });
        }
        // On the apps origin, also a configured Altinn origin.
        await expect(query('https://ttd.apps.tt02.altinn.no/events/api/v1/app/ttd/a?after=e2')).resolves.toEqual({
            events: [{ id: 'e2' }],
            next: 'https://ttd.apps.tt02.altinn.no/events/api/v1/app/ttd/a?after=e2',
        });
    });

    it('is not followed, and says why, on another origin, with credentials, on another path or without after', async () => {
        const cases: [string, RegExp][] = [
            ['https://evil.example/events/api/v1/app/ttd/a?after=e2', /origin https:\/\/evil.example is not one of/],
            ['https://platform.tt02.altinn.no@evil.example/events/api/v1/app/ttd/a?after=e2', /is not one of/],
            ['https://platform.tt02.altinn.no/events/api/v1/app/ttd/other?after=e2', /does not continue/],
            ['https://platform.tt02.altinn.no/events/api/v1/app/ttd/a?size=5', /with an after parameter/],
            ['not a url', /not an absolute URL/],
        ];
        for (const [next, reason] of cases) {
            const page = await query(next);
            expect(page.next).toBeUndefined();
            expect(page.events).toEqual([{ id: 'e2' }]);
            expect(page.nextIgnored?.reason).toMatch(reason);
        }
    });

    it('a body that is not an array is an unexpected response', async () => {
        const { http } = stubHttp({ events: [] });
        await expect(createEventsApi(http, config).queryAppEvents('https://platform.tt02.altinn.no/x')).rejects.toThrow(
            UnexpectedResponseError,
        );
    });
});

describe('refusal or transient', () => {
    const error = (status: number) =>
        new AltinnHttpError({
            method: 'POST',
            url: 'u',
            status,
            transient: status >= 500 || status === 429,
            attempts: 1,
        });
    it.each([400, 403, 404, 409, 415])('%i refuses the request', (status) => {
        expect(isRefusal(error(status))).toBe(true);
    });
    it.each([401, 429, 500, 503])('%i does not', (status) => {
        expect(isRefusal(error(status))).toBe(false);
    });
    it('neither does a connection failure or any other error', () => {
        expect(
            isRefusal(
                new AltinnHttpError({ method: 'GET', url: 'u', code: 'ECONNRESET', transient: true, attempts: 3 }),
            ),
        ).toBe(false);
        expect(isRefusal(new Error('x'))).toBe(false);
    });
});

it('the catch-up asks for the processed types and the feedback type, once each', () => {
    expect(
        catchUpTypes({
            catchUpApps: [],
            processedEventTypes: ['app.instance.process.completed'],
            feedback: {
                eventType: 'app.instance.process.movedTo.Task_2',
                dataType: 'feedback',
                contentType: 'application/xml',
            },
        }),
    ).toEqual(['app.instance.process.completed', 'app.instance.process.movedTo.Task_2']);
    expect(
        catchUpTypes({
            catchUpApps: [],
            processedEventTypes: ['app.instance.process.completed', 'app.instance.process.movedTo.Task_2'],
            feedback: {
                eventType: 'app.instance.process.movedTo.Task_2',
                dataType: 'feedback',
                contentType: 'application/xml',
            },
        }),
    ).toEqual(['app.instance.process.completed', 'app.instance.process.movedTo.Task_2']);
});
