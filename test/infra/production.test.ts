/**
 * The templates are what an agency's production needs (issue 20): both network modes, followed from
 * main.bicep's vnetEnabled into the modules; the audit diagnostic settings; retention, versioning and
 * the delete lock wired with safe defaults; and docs/deploy.md's list of what gets created equal to
 * what the templates create.
 */
import { files, loadInfra, replaceOnce } from './support/invariants';
import {
    checkAudit,
    checkNetworkMode,
    checkPrivateEndpoints,
    checkResourceList,
    checkRetention,
    createdResourceTypes,
    networkPicture,
} from './support/production';

describe('network isolation', () => {
    it('without vnetEnabled (the default): no network, Storage and Key Vault public, the app without integration', async () => {
        const infra = await loadInfra();
        expect(checkNetworkMode(infra, false)).toEqual([]);
        expect(networkPicture(infra, false)).toMatchObject({
            storageDefaultAction: 'Allow',
            keyVaultDefaultAction: 'Allow',
        });
    });

    it('with vnetEnabled: no public access to Storage or Key Vault, private endpoints, the app integrated, the webhook public', async () => {
        expect(checkNetworkMode(await loadInfra(), true)).toEqual([]);
    });

    it('reaches blob, queue, table and vault through private endpoints with their DNS zones', async () => {
        expect(checkPrivateEndpoints(await loadInfra())).toEqual([]);
        const noTable = await loadInfra({
            'infra/app/privateEndpoints.bicep': replaceOnce(/\n {2}\{\n {4}name: 'table'[\s\S]*?\n {2}\}/, ''),
        });
        expect(checkPrivateEndpoints(noTable)).toEqual([
            'infra/app/privateEndpoints.bicep: no private endpoint for table',
        ]);
    });

    it('reports storage left public with vnetEnabled, and a network deployed without it', async () => {
        const stillPublic = await loadInfra({
            [files.main]: (source) =>
                source.replaceAll('    publicNetworkAccess: !vnetEnabled\n', '    publicNetworkAccess: true\n'),
        });
        expect(checkNetworkMode(stillPublic, true)).toEqual([
            'vnetEnabled=true: storagePublicNetworkAccess must be \'Disabled\', is "Enabled"',
            'vnetEnabled=true: storageDefaultAction must be \'Deny\', is "Allow"',
            'vnetEnabled=true: keyVaultPublicNetworkAccess must be \'Disabled\', is "Enabled"',
            'vnetEnabled=true: keyVaultDefaultAction must be \'Deny\', is "Allow"',
        ]);
        const alwaysNetwork = await loadInfra({
            [files.main]: replaceOnce(
                "module network './app/network.bicep' = if (vnetEnabled) {",
                "module network './app/network.bicep' = {",
            ),
        });
        expect(checkNetworkMode(alwaysNetwork, false)).toEqual([
            'vnetEnabled=false: networkDeployed must be false, is true',
        ]);
    });

    it('reports a webhook closed to the internet', async () => {
        const closed = await loadInfra({
            [files.functionApp]: replaceOnce("publicNetworkAccess: 'Enabled'", "publicNetworkAccess: 'Disabled'"),
        });
        expect(checkNetworkMode(closed, true)).toContain(
            'vnetEnabled=true: appPublicNetworkAccess must be \'Enabled\' (Altinn must reach the webhook), is "Disabled"',
        );
    });
});

describe('audit', () => {
    it('sends Storage read, write and delete logs of blobs, queues and tables, and Key Vault audit events, to the workspace', async () => {
        expect(checkAudit(await loadInfra())).toEqual([]);
    });

    it('reports a service without its read log, and a setting sent elsewhere', async () => {
        const infra = await loadInfra({
            'infra/app/audit.bicep': (source) =>
                source
                    .replace("  {\n    category: 'StorageRead'\n    enabled: true\n  }\n", '')
                    .replace(
                        'scope: vault\n  properties: {\n    workspaceId: logAnalyticsWorkspaceId',
                        "scope: vault\n  properties: {\n    workspaceId: 'elsewhere'",
                    ),
        });
        expect(checkAudit(infra)).toEqual([
            'infra/app/audit.bicep: blobService does not send StorageRead',
            'infra/app/audit.bicep: queueService does not send StorageRead',
            'infra/app/audit.bicep: tableService does not send StorageRead',
            'infra/app/audit.bicep: keyVaultAudit must send to the workspace (logAnalyticsWorkspaceId)',
        ]);
    });
});

describe('retention and backup', () => {
    it('wires lifecycle per container, versioning, soft delete and the lock, each off by default', async () => {
        expect(checkRetention(await loadInfra())).toEqual([]);
    });

    it('reports a lifecycle rule on by default, a container missing, and a lock that is always on', async () => {
        const infra = await loadInfra({
            [files.main]: (source) =>
                source
                    .replace('param inboundDeleteAfterDays int = 0', 'param inboundDeleteAfterDays int = 365')
                    .replace(
                        "        container: 'quarantine'\n        coolAfterDays: 0\n        deleteAfterDays: quarantineDeleteAfterDays\n",
                        "        container: 'quarantine-x'\n        coolAfterDays: 0\n        deleteAfterDays: quarantineDeleteAfterDays\n",
                    )
                    .replace('param storageDeleteLock bool = false', 'param storageDeleteLock bool = true'),
        });
        expect(checkRetention(infra)).toEqual([
            'infra/main.bicep: the lifecycle of inbound must be off by default (0 days)',
            'infra/main.bicep: no lifecycle entry for container quarantine',
            'infra/main.bicep: lifecycle entry for "quarantine-x", which is not a container of shared/names.ts',
            'infra/main.bicep: the delete lock must be off by default',
        ]);
    });
});

describe('docs/deploy.md', () => {
    it('lists exactly the resource types, queues, containers and tables the templates create', async () => {
        const infra = await loadInfra();
        expect(createdResourceTypes(infra)).toEqual(
            expect.arrayContaining([
                'Microsoft.Network/privateEndpoints',
                'Microsoft.Insights/diagnosticSettings',
                'Microsoft.Authorization/locks',
            ]),
        );
        expect(checkResourceList(infra)).toEqual([]);
    });

    it('reports a queue or resource type the templates create that the page does not list, and one they do not', async () => {
        const infra = await loadInfra({
            [files.storage]: replaceOnce("  'instances-received'\n", "  'instances-received'\n  'extra-queue'\n"),
            [files.deployDoc]: (source) =>
                source.replace('`Microsoft.Authorization/locks`', '`Microsoft.Web/staticSites`'),
        });
        expect(checkResourceList(infra)).toEqual([
            'docs/deploy.md does not list resource types Microsoft.Authorization/locks',
            'docs/deploy.md lists resource types Microsoft.Web/staticSites, which infra does not create',
        ]);
    });
});
