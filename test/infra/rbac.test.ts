/**
 * The role assignments are exactly the intended ones, on the narrowest scopes; the Key Vault is
 * in RBAC mode with soft delete and purge protection; monitoring accepts only Entra identities;
 * the function app is Flex Consumption on Node 22 running as the user-assigned identity.
 */
import {
    checkFunctionApp,
    checkKeyVault,
    checkMonitoring,
    checkRoleAssignments,
    expectedAssignments,
    files,
    loadInfra,
    replaceOnce,
    roleAssignments,
} from './support/invariants';

describe('Role assignments', () => {
    it('assign exactly the intended built-in roles', async () => {
        const assigned = roleAssignments(await loadInfra()).map((a) => a.roleDefinitionId);
        expect(new Set(assigned)).toEqual(
            new Set([
                'b7e6dc6d-f1e8-4753-8033-0f276bb0955b', // Storage Blob Data Owner
                '974c5e8b-45b9-4653-ba55-5f855dd0fb88', // Storage Queue Data Contributor
                '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3', // Storage Table Data Contributor (host diagnostic events)
                '3913510d-42f4-4e42-8a64-420c390055eb', // Monitoring Metrics Publisher
                '4633458b-17de-408a-b874-0445c86b69e6', // Key Vault Secrets User
                'b86a8fe4-44ce-4948-aee5-eccb2c155cd7', // Key Vault Secrets Officer (deployer)
                'ba92f5b4-2d11-453d-a403-e96b0029c9fe', // Storage Blob Data Contributor (deployer, two containers)
                '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1', // Storage Blob Data Reader (operators)
                '76199698-9eea-4c19-bc75-cec21354c6b6', // Storage Table Data Reader (operators, the ledger)
                '73c42c96-874c-492b-b04d-ab87d138a893', // Log Analytics Reader (operators)
            ]),
        );
    });

    it.each(expectedAssignments)('$role for $principal on $scope', async (expected) => {
        const actual = roleAssignments(await loadInfra());
        expect(actual).toContainEqual(
            expect.objectContaining({
                roleDefinitionId: expected.roleDefinitionId,
                principal: expected.principal,
                scope: expected.scope,
            }),
        );
    });

    it('are all in rbac.bicep, on the given resources, the app unconditionally and the deployer optionally', async () => {
        expect(checkRoleAssignments(await loadInfra())).toEqual([]);
    });

    it('report a different role, a wider scope, or an assignment outside rbac.bicep', async () => {
        const contributor = await loadInfra({
            [files.rbac]: replaceOnce(
                "monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'",
                "monitoringMetricsPublisher: 'b24988ac-6180-42a0-ab88-20f7382dd24c'",
            ),
        });
        expect(checkRoleAssignments(contributor)).toEqual(
            expect.arrayContaining([
                expect.stringContaining('missing role assignment: Monitoring Metrics Publisher'),
                expect.stringContaining('unexpected role assignment appMetricsPublisher: b24988ac-'),
            ]),
        );

        const widerScope = await loadInfra({
            [files.rbac]: replaceOnce(
                'keyVaultSecretsUser)\n  scope: keyVault\n',
                'keyVaultSecretsUser)\n  scope: resourceGroup()\n',
            ),
        });
        expect(checkRoleAssignments(widerScope)).toContainEqual(
            expect.stringContaining(
                'unexpected role assignment appKeyVaultSecretsUser: 4633458b-17de-408a-b874-0445c86b69e6 for identityPrincipalId on resourceGroup()',
            ),
        );

        const elsewhere = await loadInfra({
            [files.keyVault]: (source) =>
                `${source}\nresource extra 'Microsoft.Authorization/roleAssignments@2022-04-01' = {\n  name: guid(vault.id)\n  scope: vault\n  properties: {\n    roleDefinitionId: 'x'\n    principalId: 'y'\n  }\n}\n`,
        });
        expect(checkRoleAssignments(elsewhere)).toContain(
            'infra/app/keyvault.bicep: role assignment extra belongs in infra/app/rbac.bicep',
        );

        const unconditional = await loadInfra({
            [files.rbac]: replaceOnce(
                "resource deployerKeyVaultSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (grantDeployer) {",
                "resource deployerKeyVaultSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = {",
            ),
        });
        expect(checkRoleAssignments(unconditional)).toContain(
            "deployerKeyVaultSecretsOfficer: the deployer's roles must be conditional on grantDeployer",
        );
    });
});

describe('Key Vault', () => {
    it('uses RBAC, soft delete with a retention parameter, and purge protection', async () => {
        expect(checkKeyVault(await loadInfra())).toEqual([]);
    });

    it('reports a vault without purge protection or in access-policy mode', async () => {
        const noPurgeProtection = await loadInfra({
            [files.keyVault]: replaceOnce('enablePurgeProtection: true', 'enablePurgeProtection: false'),
        });
        expect(checkKeyVault(noPurgeProtection)).toEqual([
            'infra/app/keyvault.bicep: vault.properties.enablePurgeProtection must be true',
        ]);
        const policies = await loadInfra({
            [files.keyVault]: replaceOnce(
                'enableRbacAuthorization: true',
                'enableRbacAuthorization: false\n    accessPolicies: []',
            ),
        });
        expect(checkKeyVault(policies)).toHaveLength(2);
    });
});

describe('Monitoring', () => {
    it('disables local authentication on Log Analytics and Application Insights', async () => {
        expect(checkMonitoring(await loadInfra())).toEqual([]);
        const localAuth = await loadInfra({
            [files.monitoring]: replaceOnce('DisableLocalAuth: true', 'DisableLocalAuth: false'),
        });
        expect(checkMonitoring(localAuth)).toEqual([
            'infra/app/monitoring.bicep: applicationInsights.properties.DisableLocalAuth must be true',
        ]);
    });
});

describe('Function app', () => {
    it('is a Flex Consumption Linux app on Node 22 with the user-assigned identity', async () => {
        expect(checkFunctionApp(await loadInfra())).toEqual([]);
        const node20 = await loadInfra({ [files.functionApp]: replaceOnce("version: '22'", "version: '20'") });
        expect(checkFunctionApp(node20)).toEqual([
            "infra/app/functionapp.bicep: functionApp.properties.functionAppConfig.runtime.version must be '22'",
        ]);
        const consumption = await loadInfra({ [files.functionApp]: replaceOnce("name: 'FC1'", "name: 'Y1'") });
        expect(checkFunctionApp(consumption)).toEqual(["infra/app/functionapp.bicep: plan.sku.name must be 'FC1'"]);
    });
});
