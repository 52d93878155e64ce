import {
    SubscriptionRequestError,
    parseSubscriptionRequest,
    validateSubscriptionRequest,
} from '../../../shared/subscriptions/validate';

const config = { appsBaseUrl: 'https://ttd.apps.tt02.altinn.no' };
const endPoint = 'https://aos.azurewebsites.net/api/eventsreceiver?code=secret';
const sourceFilter = 'https://ttd.apps.tt02.altinn.no/ttd/apps-test';

function refused(value: unknown): string {
    try {
        validateSubscriptionRequest(value, config);
    } catch (error) {
        expect(error).toBeInstanceOf(SubscriptionRequestError);
        return (error as Error).message;
    }
    throw new Error('expected a refusal');
}

describe('accepted requests', () => {
    it('an app subscription as in the reference README, sent with the resourceFilter Altinn derives', () => {
        const request = { endPoint, sourceFilter, typeFilter: 'app.instance.process.completed' };
        expect(validateSubscriptionRequest(request, config)).toEqual({
            body: { ...request, resourceFilter: 'urn:altinn:resource:app_ttd_apps-test' },
            kind: 'app',
        });
    });

    it('field names in any case, sent with Altinn spelling; unknown fields passed on; null dropped', () => {
        const result = validateSubscriptionRequest(
            { ENDPOINT: endPoint, sourcefilter: sourceFilter, description: 'from the reference', subjectFilter: null },
            config,
        );
        expect(result.body).toEqual({
            endPoint,
            sourceFilter,
            description: 'from the reference',
            resourceFilter: 'urn:altinn:resource:app_ttd_apps-test',
        });
    });

    it('a Broker (generic) subscription with resourceFilter and subjectFilter', () => {
        const request = {
            endPoint,
            resourceFilter: 'urn:altinn:resource:ttd-broker',
            subjectFilter: 'urn:altinn:organization:identifier-no:991825827',
            typeFilter: 'no.altinn.broker.published',
        };
        expect(validateSubscriptionRequest(request, config).kind).toBe('generic');
    });

    it('an app resourceFilter in any case is an app subscription, as Altinn classifies it', () => {
        expect(
            validateSubscriptionRequest({ endPoint, resourceFilter: 'URN:ALTINN:RESOURCE:APP_ttd_apps-test' }, config)
                .kind,
        ).toBe('app');
    });

    it('an app subscription by resourceFilter alone, and one with a matching resourceFilter', () => {
        expect(
            validateSubscriptionRequest({ endPoint, resourceFilter: 'urn:altinn:resource:app_ttd_apps-test' }, config)
                .kind,
        ).toBe('app');
        expect(
            validateSubscriptionRequest(
                { endPoint, sourceFilter, resourceFilter: 'urn:altinn:resource:app_ttd_apps-test' },
                config,
            ).kind,
        ).toBe('app');
    });

    it('plain http endpoints on loopback (the local stack), with apps on loopback too', () => {
        const local = { appsBaseUrl: 'http://127.0.0.1:5102' };
        for (const host of ['127.0.0.1:7071', 'localhost:7071', '[::1]:7071']) {
            expect(
                validateSubscriptionRequest(
                    { endPoint: `http://${host}/api/eventsreceiver`, sourceFilter: 'http://127.0.0.1:5102/ttd/app' },
                    local,
                ).kind,
            ).toBe('app');
        }
    });

    it('a file with a byte order mark', () => {
        expect(parseSubscriptionRequest(`\uFEFF${JSON.stringify({ endPoint, sourceFilter })}`, config).kind).toBe(
            'app',
        );
    });
});

describe('refused requests, with a reason', () => {
    const cases: [string, unknown, RegExp][] = [
        ['an array', [{ endPoint }], /JSON object/],
        ['a string', 'hello', /JSON object/],
        ['null', null, /JSON object/],
        ['no endPoint', { sourceFilter }, /endPoint is required/],
        ['an empty endPoint', { endPoint: '', sourceFilter }, /endPoint must be a non-empty string/],
        ['a relative endPoint', { endPoint: '/api/eventsreceiver', sourceFilter }, /not an absolute URL/],
        ['an http endPoint', { endPoint: 'http://aos.example.no/api/eventsreceiver', sourceFilter }, /must use https/],
        ['an ftp endPoint', { endPoint: 'ftp://aos.example.no/x', sourceFilter }, /must use https/],
        [
            'a sourceFilter with a trailing slash',
            { endPoint, sourceFilter: `${sourceFilter}/` },
            /without a trailing slash/,
        ],
        [
            'a sourceFilter with one segment',
            { endPoint, sourceFilter: 'https://ttd.apps.tt02.altinn.no/ttd' },
            /exactly/,
        ],
        ['a sourceFilter with three segments', { endPoint, sourceFilter: `${sourceFilter}/instances` }, /exactly/],
        [
            'an http sourceFilter',
            { endPoint, sourceFilter: 'http://ttd.apps.tt02.altinn.no/ttd/apps-test' },
            /AltinnAppsBaseUrl/,
        ],
        [
            'a sourceFilter on another apps origin',
            { endPoint, sourceFilter: 'https://other.apps.tt02.altinn.no/other/app' },
            /AltinnAppsBaseUrl/,
        ],
        ['a sourceFilter with a query', { endPoint, sourceFilter: `${sourceFilter}?x=1` }, /no query/],
        ['an empty typeFilter', { endPoint, sourceFilter, typeFilter: '' }, /matches nothing/],
        ['a blank subjectFilter', { endPoint, sourceFilter, subjectFilter: '  ' }, /matches nothing/],
        ['a numeric typeFilter', { endPoint, sourceFilter, typeFilter: 5 }, /typeFilter must be a string/],
        ['a typeFilter list', { endPoint, sourceFilter, typeFilter: 'a.b,c.d' }, /exactly one event type/],
        ['a typeFilter wildcard', { endPoint, sourceFilter, typeFilter: 'app.instance.*' }, /no wildcards/],
        ['a padded typeFilter', { endPoint, sourceFilter, typeFilter: 'app.x ' }, /leading or trailing spaces/],
        [
            'neither source nor resource',
            { endPoint, typeFilter: 'app.instance.process.completed' },
            /Either sourceFilter/,
        ],
        ['a resourceFilter that is no URN', { endPoint, resourceFilter: 'ttd-broker' }, /valid URN/],
        [
            'a resourceFilter that does not match the sourceFilter',
            { endPoint, sourceFilter, resourceFilter: 'urn:altinn:resource:app_ttd_other' },
            /does not match sourceFilter/,
        ],
        [
            'a generic resource with alternativeSubjectFilter',
            { endPoint, resourceFilter: 'urn:altinn:resource:ttd-broker', alternativeSubjectFilter: '/org/991825827' },
            /not supported/,
        ],
        [
            'a malformed alternativeSubjectFilter',
            { endPoint, sourceFilter, alternativeSubjectFilter: 'org 991825827' },
            /alternativeSubjectFilter/,
        ],
        ['includeSubunits that is no boolean', { endPoint, sourceFilter, includeSubunits: 'yes' }, /true or false/],
        [
            'includeSubunits without a subject',
            { endPoint, sourceFilter, includeSubunits: true },
            /needs a subjectFilter/,
        ],
        [
            'includeSubunits without a subject on a generic resource',
            { endPoint, resourceFilter: 'urn:altinn:resource:ttd-broker', includeSubunits: true },
            /needs a subjectFilter/,
        ],
        ['the same field twice in different case', { endPoint, endpoint: endPoint, sourceFilter }, /same field/],
    ];
    test.each(cases)('%s', (_name, value, reason) => {
        expect(refused(value)).toMatch(reason);
    });

    it('a generic resource with a sourceFilter is treated as an app subscription that must match', () => {
        expect(refused({ endPoint, sourceFilter, resourceFilter: 'urn:altinn:resource:ttd-broker' })).toMatch(
            /does not match sourceFilter/,
        );
    });

    it('text that is not JSON', () => {
        expect(() => parseSubscriptionRequest('{"endPoint": ', config)).toThrow(/not valid JSON/);
    });

    it('never echoes the function key of the endpoint in an http refusal', () => {
        const message = refused({ endPoint: 'http://aos.example.no/api/eventsreceiver?code=topsecret', sourceFilter });
        expect(message).not.toContain('topsecret');
    });
});
