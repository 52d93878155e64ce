import { altinnEnvironmentOf, maskinportenEnvironmentOf } from '../../../shared/altinn/environments';
import { productionRefusal } from '../../../tools/commands/smoke';

test.each([
    ['https://platform.tt02.altinn.no', 'test', 'tt02'],
    ['https://ttd.apps.tt02.altinn.no', 'test', 'tt02'],
    ['https://platform.at22.altinn.cloud', 'test', 'at22'],
    ['https://ttd.apps.yt01.altinn.cloud', 'test', 'yt01'],
    ['https://platform.altinn.no', 'production', 'production'],
    ['https://ttd.apps.altinn.no', 'production', 'production'],
    ['http://127.0.0.1:5101', 'local', 'local'],
    ['http://localhost:5102', 'local', 'local'],
])('%s is %s (%s)', (url, kind, name) => {
    expect(altinnEnvironmentOf(url)).toEqual({ kind, name });
});

test.each([
    'https://platform.tt02.altinn.cloud', // TT02 is on altinn.no
    'https://platform.at22.altinn.no', // the AT environments are on altinn.cloud
    'https://platform.at99.altinn.cloud',
    'https://platform.tt02.altinn.no.example.com',
    'https://example.com',
])('%s is no known Altinn environment', (url) => {
    expect(altinnEnvironmentOf(url)).toEqual({ kind: 'unknown' });
});

test('Maskinporten: test.maskinporten.no is test, maskinporten.no production', () => {
    expect(maskinportenEnvironmentOf('https://test.maskinporten.no').kind).toBe('test');
    expect(maskinportenEnvironmentOf('https://maskinporten.no').kind).toBe('production');
    expect(maskinportenEnvironmentOf('https://ver2.maskinporten.no').kind).toBe('unknown');
});

test('aos smoke refuses production and anything unknown, and accepts a test environment', () => {
    const tt02 = {
        platformBaseUrl: 'https://platform.tt02.altinn.no',
        appsBaseUrl: 'https://ttd.apps.tt02.altinn.no',
        maskinporten: { baseUrl: 'https://test.maskinporten.no' },
    } as Parameters<typeof productionRefusal>[0];
    expect(productionRefusal(tt02)).toBeUndefined();
    expect(productionRefusal({ ...tt02, appsBaseUrl: 'https://ttd.apps.altinn.no' })).toMatch(
        /^AltinnAppsBaseUrl https:\/\/ttd\.apps\.altinn\.no is Altinn production/,
    );
    expect(productionRefusal({ ...tt02, maskinporten: { baseUrl: 'https://maskinporten.no' } } as typeof tt02)).toMatch(
        /^MaskinportenBaseUrl https:\/\/maskinporten\.no is not test\.maskinporten\.no or local/,
    );
});
