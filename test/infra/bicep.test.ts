/**
 * Every template parses with the tree-sitter Bicep grammar, and the modules fit together.
 * No Bicep compiler runs here: the grammar checks syntax only, the other checks structure.
 */
import { bicepFiles, parseBicep } from './support/bicepTree';
import { checkModules, checkSyntax, files, loadInfra, replaceOnce } from './support/invariants';

describe('Bicep templates', () => {
    it('are main.bicep and one local module per concern', () => {
        expect(bicepFiles()).toEqual([
            'infra/app/alerts.bicep',
            'infra/app/audit.bicep',
            'infra/app/functionapp.bicep',
            'infra/app/identity.bicep',
            'infra/app/keyvault.bicep',
            'infra/app/monitoring.bicep',
            'infra/app/network.bicep',
            'infra/app/privateEndpoints.bicep',
            'infra/app/rbac.bicep',
            'infra/app/retention.bicep',
            'infra/app/storage.bicep',
            'infra/main.bicep',
        ]);
    });

    it('parse without syntax errors', async () => {
        const infra = await loadInfra();
        expect(checkSyntax(infra)).toEqual([]);
        for (const file of infra.bicep) expect(file.root.hasError).toBe(false);
    });

    it('report a syntax error in a broken template', async () => {
        const broken = await loadInfra({
            [files.storage]: replaceOnce(
                "  name: 'default'\n}\n\nresource queues",
                "  name: 'default'\n\nresource queues",
            ),
        });
        const problems = checkSyntax(broken);
        expect(problems).not.toEqual([]);
        for (const problem of problems) expect(problem).toMatch(/^infra\/app\/storage\.bicep:\d+:\d+: syntax /);
        expect((await parseBicep("param location string = 'x\nresource r 'a@1' = {")).syntaxProblems()).not.toEqual([]);
    });

    it('wire modules to local files with the parameters they declare', async () => {
        expect(await checkModules(await loadInfra())).toEqual([]);
    });

    it('report a module parameter that the module does not declare, or a required one not passed', async () => {
        const unknownParam = await loadInfra({
            [files.main]: replaceOnce(
                '    retentionInDays: logRetentionInDays\n',
                '    retentionDays: logRetentionInDays\n',
            ),
        });
        expect(await checkModules(unknownParam)).toContain(
            'infra/main.bicep: module monitoring passes unknown param retentionDays',
        );
        const missingParam = await loadInfra({
            [files.main]: replaceOnce('    identityPrincipalId: identity.outputs.principalId\n', ''),
        });
        expect(await checkModules(missingParam)).toContain(
            'infra/main.bicep: module rbac does not pass required param identityPrincipalId',
        );
    });

    it('report a registry module, which would need network access to build', async () => {
        const registry = await loadInfra({
            [files.main]: replaceOnce(
                "module identity './app/identity.bicep'",
                "module identity 'br/public:avm/res/managed-identity/user-assigned-identity:0.4.1'",
            ),
        });
        expect(await checkModules(registry)).toContainEqual(expect.stringContaining('uses registry br/public:avm'));
    });
});
