/**
 * The function app sets no siteConfig property that Flex Consumption refuses (issue 17 item 4): the
 * list and where each refusal is recorded are in support/flex.ts.
 */
import { checkFlexSiteConfig, flexRejectedSiteConfig } from './support/flex';
import { files, loadInfra, replaceOnce } from './support/invariants';

describe('Flex Consumption siteConfig', () => {
    it('sets none of the properties Flex refuses (ARM 51021)', async () => {
        expect(checkFlexSiteConfig(await loadInfra())).toEqual([]);
    });

    it('names a source for every refused property', () => {
        for (const rejected of flexRejectedSiteConfig) expect(rejected.source).toMatch(/#\d+|PR #\d+|Q&A \d+/);
    });

    it.each(flexRejectedSiteConfig.map((rejected) => rejected.name))('reports siteConfig.%s', async (name) => {
        const infra = await loadInfra({
            [files.functionApp]: replaceOnce(
                "      minTlsVersion: '1.2'\n",
                `      minTlsVersion: '1.2'\n      ${name}: null\n`,
            ),
        });
        expect(checkFlexSiteConfig(infra)).toEqual([
            expect.stringMatching(
                new RegExp(`^infra/app/functionapp\\.bicep: functionApp sets siteConfig\\.${name}, which Flex`),
            ),
        ]);
    });

    it('reports a refused property set through a sites/config web resource too', async () => {
        const infra = await loadInfra({
            [files.functionApp]: (source) =>
                `${source}\nresource web 'Microsoft.Web/sites/config@2024-04-01' = {\n  parent: functionApp\n  name: 'web'\n  properties: {\n    ftpsState: 'Disabled'\n  }\n}\n`,
        });
        expect(checkFlexSiteConfig(infra)).toEqual([expect.stringContaining('web sets siteConfig.ftpsState')]);
    });
});
