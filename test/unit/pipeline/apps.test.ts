import type { AltinnHttp } from '../../../shared/altinn/http';
import { createAppsClient, type DataElement } from '../../../shared/altinn/apps';
import { ForeignOriginError } from '../../../shared/altinn/origins';

const config = {
    platformBaseUrl: 'https://platform.tt02.altinn.no',
    appsBaseUrl: 'https://ttd.apps.tt02.altinn.no',
    maskinporten: { baseUrl: 'https://test.maskinporten.no', clientId: 'c-1', scopes: ['s:1'] },
};
const requests: string[] = [];
const http = {
    stream: (url: URL) => {
        requests.push(String(url));
        return Promise.reject(new Error('no network in unit tests'));
    },
    assertAllowedOrigin: () => {
        throw new Error('not used');
    },
} as unknown as AltinnHttp;
const apps = createAppsClient(http, config);

function element(selfLinks: DataElement['selfLinks']): DataElement {
    return { id: 'd', dataType: 't', size: 1, selfLinks };
}

const platformLink = 'https://platform.tt02.altinn.no/storage/api/v1/instances/1/g/data/d';
const appsLink = 'https://ttd.apps.tt02.altinn.no/ttd/app/instances/1/g/data/d';

test('Storage (platform) links are preferred; the apps link is the fallback', () => {
    expect(String(apps.dataLink(element({ platform: platformLink, apps: appsLink })))).toBe(platformLink);
    expect(String(apps.dataLink(element({ apps: appsLink })))).toBe(appsLink);
    expect(String(apps.dataLink(element({ platform: null, apps: appsLink })))).toBe(appsLink);
    expect(() => apps.dataLink(element(null))).toThrow(/no selfLinks/);
});

test.each([
    ['another host', 'https://evil.example/storage/api/v1/instances/1/g/data/d'],
    ['the Maskinporten origin (allowed for tokens, never for data)', 'https://test.maskinporten.no/data/d'],
    ['user info', 'https://platform.tt02.altinn.no@evil.example/data/d'],
    ['plain http', 'http://platform.tt02.altinn.no/storage/api/v1/instances/1/g/data/d'],
    ['another port', 'https://platform.tt02.altinn.no:8443/storage/api/v1/instances/1/g/data/d'],
    ['not a URL', 'storage/api/v1/instances/1/g/data/d'],
])('a data link on %s is refused before any request', async (_what, link) => {
    expect(() => apps.dataLink(element({ platform: link }))).toThrow(ForeignOriginError);
    await expect(apps.openDataStream(link)).rejects.toThrow(ForeignOriginError);
    expect(requests).toEqual([]);
});
