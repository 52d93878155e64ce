import { SourceRefusedError, parseInstanceSource } from '../../../shared/instances/source';

const apps = 'https://ttd.apps.tt02.altinn.no';
const guid = '0F5D3A28-7CDE-4D6C-A7A2-2D8D1B2D8A11';

test('an instance URL on the apps base URL gives org, app, partyId and the instance GUID in lower case', () => {
    expect(parseInstanceSource(`${apps}/ttd/apps-test/instances/50015641/${guid}`, apps)).toEqual({
        org: 'ttd',
        app: 'apps-test',
        partyId: '50015641',
        instanceGuid: guid.toLowerCase(),
        instanceId: `50015641/${guid.toLowerCase()}`,
        url: `${apps}/ttd/apps-test/instances/50015641/${guid.toLowerCase()}`,
    });
});

test('an apps base URL with a path is honoured', () => {
    const base = 'http://127.0.0.1:5005/proxy';
    expect(parseInstanceSource(`${base}/ttd/app/instances/1/${guid}`, base).url).toBe(
        `${base}/ttd/app/instances/1/${guid.toLowerCase()}`,
    );
    expect(() => parseInstanceSource(`http://127.0.0.1:5005/ttd/app/instances/1/${guid}`, base)).toThrow(
        SourceRefusedError,
    );
});

test.each([
    ['another origin', `https://evil.example/ttd/app/instances/1/${guid}`, /not on the configured apps base URL/],
    ['a look-alike host', `https://ttd.apps.tt02.altinn.no.evil.example/ttd/app/instances/1/${guid}`, /not on the/],
    ['user info', `https://ttd.apps.tt02.altinn.no@evil.example/ttd/app/instances/1/${guid}`, /not on the/],
    ['http instead of https', `http://ttd.apps.tt02.altinn.no/ttd/app/instances/1/${guid}`, /not on the/],
    ['an explicit default port', `https://ttd.apps.tt02.altinn.no:443/ttd/app/instances/1/${guid}`, /not on the/],
    ['upper-case host', `https://TTD.apps.tt02.altinn.no/ttd/app/instances/1/${guid}`, /not on the/],
    ['a query', `${apps}/ttd/app/instances/1/${guid}?a=b`, /query or fragment/],
    ['an empty query', `${apps}/ttd/app/instances/1/${guid}?`, /query or fragment/],
    ['a fragment', `${apps}/ttd/app/instances/1/${guid}#f`, /query or fragment/],
    ['too few segments', `${apps}/ttd/instances/1/${guid}`, /path is not/],
    ['an extra segment', `${apps}/ttd/app/instances/1/${guid}/data`, /path is not/],
    ['a trailing slash', `${apps}/ttd/app/instances/1/${guid}/`, /path is not/],
    ['a double slash', `${apps}//ttd/app/instances/1/${guid}`, /path is not/],
    ['not /instances/', `${apps}/ttd/app/instance/1/${guid}`, /path is not/],
    ['an upper-case org', `${apps}/TTD/app/instances/1/${guid}`, /org "TTD"/],
    ['a dot-dot app', `${apps}/ttd/../instances/1/${guid}`, /app ".."/],
    ['an encoded app', `${apps}/ttd/a%2e/instances/1/${guid}`, /app "a%2e"/],
    ['a negative party', `${apps}/ttd/app/instances/-1/${guid}`, /partyId "-1"/],
    ['a zero-padded party', `${apps}/ttd/app/instances/01/${guid}`, /partyId "01"/],
    ['a GUID without dashes', `${apps}/ttd/app/instances/1/${guid.replace(/-/g, '')}`, /not a GUID/],
    ['a GUID in braces', `${apps}/ttd/app/instances/1/{${guid}}`, /not a GUID/],
])('refused: %s', (_what, source, reason) => {
    let error: unknown;
    try {
        parseInstanceSource(source, apps);
    } catch (caught) {
        error = caught;
    }
    expect(error).toBeInstanceOf(SourceRefusedError);
    expect((error as SourceRefusedError).reason).toMatch(reason);
    expect((error as Error).message).toContain(JSON.stringify(source));
});

test('a source that is not a string is refused', () => {
    expect(() => parseInstanceSource(42, apps)).toThrow(/not a string/);
});
