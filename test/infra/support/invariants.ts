/**
 * The invariants the deployment keeps, as checks that return a list of problems (empty: all is
 * well). Tests run each check on the real files and on deliberately broken copies (loadInfra with
 * mutations), so every check is known to be able to fail.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { containers, poisonQueueOf, queues, storageConnection, tables } from '../../../shared/names';
import { settings, type SettingSpec } from '../../../shared/settings';
import { defaultOutDir, packageFolderName } from '../../../dev/package/build';
import {
    arrayItems,
    bicepFiles,
    loadBicep,
    objectProperties,
    parseBicep,
    property,
    repoRoot,
    stringLiteral,
    stringTemplate,
    type BicepFile,
} from './bicepTree';

// ---------------------------------------------------------------------------------------------
// Loading, with optional mutations
// ---------------------------------------------------------------------------------------------

export const files = {
    main: 'infra/main.bicep',
    identity: 'infra/app/identity.bicep',
    monitoring: 'infra/app/monitoring.bicep',
    storage: 'infra/app/storage.bicep',
    keyVault: 'infra/app/keyvault.bicep',
    rbac: 'infra/app/rbac.bicep',
    functionApp: 'infra/app/functionapp.bicep',
    parameters: 'infra/main.parameters.json',
    azureYaml: 'azure.yaml',
    hostJson: 'host.json',
    eventsReceiver: 'functions/eventsReceiver.ts',
    deployDoc: 'docs/deploy.md',
} as const;

export interface Infra {
    main: BicepFile;
    identity: BicepFile;
    monitoring: BicepFile;
    storage: BicepFile;
    keyVault: BicepFile;
    rbac: BicepFile;
    functionApp: BicepFile;
    /** Every .bicep file under infra/. */
    bicep: BicepFile[];
    parametersJson: string;
    azureYaml: string;
    hostJson: string;
    eventsReceiverSource: string;
    deployDoc: string;
}

/** Source transformations keyed by file (relative to the repository root). */
export type Mutations = Partial<Record<string, (source: string) => string>>;

function read(file: string, mutations: Mutations): string {
    const source = readFileSync(path.join(repoRoot, file), 'utf8');
    const mutate = mutations[file];
    if (!mutate) return source;
    const mutated = mutate(source);
    if (mutated === source) throw new Error(`the mutation of ${file} changed nothing`);
    return mutated;
}

export async function loadInfra(mutations: Mutations = {}): Promise<Infra> {
    const unknown = Object.keys(mutations).filter(
        (file) => !bicepFiles().includes(file) && !(Object.values(files) as string[]).includes(file),
    );
    if (unknown.length > 0) throw new Error(`mutations for unknown files: ${unknown.join(', ')}`);
    const bicep = await Promise.all(bicepFiles().map((file) => parseBicep(read(file, mutations), file)));
    const byFile = (file: string): BicepFile => {
        const found = bicep.find((candidate) => candidate.file === file);
        if (!found) throw new Error(`${file} is missing`);
        return found;
    };
    return {
        main: byFile(files.main),
        identity: byFile(files.identity),
        monitoring: byFile(files.monitoring),
        storage: byFile(files.storage),
        keyVault: byFile(files.keyVault),
        rbac: byFile(files.rbac),
        functionApp: byFile(files.functionApp),
        bicep,
        parametersJson: read(files.parameters, mutations),
        azureYaml: read(files.azureYaml, mutations),
        hostJson: read(files.hostJson, mutations),
        eventsReceiverSource: read(files.eventsReceiver, mutations),
        deployDoc: read(files.deployDoc, mutations),
    };
}

/** Replaces exactly one occurrence of `find`, so that a mutation cannot silently miss. */
export function replaceOnce(find: string | RegExp, replacement: string): (source: string) => string {
    return (source) => {
        const matches =
            typeof find === 'string'
                ? source.split(find).length - 1
                : (source.match(new RegExp(find.source, `${find.flags.replace('g', '')}g`)) ?? []).length;
        if (matches !== 1) throw new Error(`expected exactly one match of ${String(find)}, found ${matches}`);
        return source.replace(find, replacement);
    };
}

// ---------------------------------------------------------------------------------------------
// Syntax and module wiring
// ---------------------------------------------------------------------------------------------

export function checkSyntax(infra: Infra): string[] {
    return infra.bicep.flatMap((file) =>
        file.syntaxProblems().map((p) => `${file.file}:${p.line}:${p.column}: syntax ${p.kind} near "${p.text}"`),
    );
}

/** Each module file exists, receives only parameters it declares and every one it requires. */
export async function checkModules(infra: Infra): Promise<string[]> {
    const problems: string[] = [];
    for (const file of infra.bicep) {
        for (const module of file.modules()) {
            if (/^br[:/]|^ts[:/]/.test(module.path)) {
                problems.push(`${file.file}: module ${module.symbol} uses registry ${module.path}; use a local file`);
                continue;
            }
            const target = path.posix.normalize(path.posix.join(path.posix.dirname(file.file), module.path));
            if (!existsSync(path.join(repoRoot, target))) {
                problems.push(`${file.file}: module ${module.symbol} points to missing ${target}`);
                continue;
            }
            const declared = (
                infra.bicep.find((candidate) => candidate.file === target) ?? (await loadBicep(target))
            ).params();
            const passed = objectProperties(property(module.body, 'params'));
            for (const name of passed.keys()) {
                if (!declared.has(name))
                    problems.push(`${file.file}: module ${module.symbol} passes unknown param ${name}`);
            }
            for (const param of declared.values()) {
                if (!param.defaultValue && !passed.has(param.name)) {
                    problems.push(`${file.file}: module ${module.symbol} does not pass required param ${param.name}`);
                }
            }
        }
    }
    return problems;
}

// ---------------------------------------------------------------------------------------------
// App settings
// ---------------------------------------------------------------------------------------------

/** Settings Flex Consumption rejects, or that would put a storage key into the settings. */
export const forbiddenAppSettings = [
    'FUNCTIONS_WORKER_RUNTIME',
    'FUNCTIONS_EXTENSION_VERSION',
    'WEBSITE_NODE_DEFAULT_VERSION',
    'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING',
    'WEBSITE_CONTENTSHARE',
    'WEBSITE_RUN_FROM_PACKAGE',
    'APPINSIGHTS_INSTRUMENTATIONKEY',
    storageConnection,
];

/** The identity-based form of the storage connection the triggers and shared/storage.ts use. */
export const identityStorageSettings = [
    'credential',
    'clientId',
    'blobServiceUri',
    'queueServiceUri',
    'tableServiceUri',
].map((suffix) => `${storageConnection}__${suffix}`);

const catalogue: Record<string, SettingSpec> = settings;

/** The Bicep parameter that carries a setting's value: AltinnAppsBaseUrl -> altinnAppsBaseUrl. */
export function paramNameOf(setting: string): string {
    return setting.charAt(0).toLowerCase() + setting.slice(1);
}

export function appSettingKeys(infra: Infra): Map<string, string> {
    const keys = new Map<string, string>();
    for (const [key, value] of objectProperties(infra.functionApp.variable('appSettings'))) keys.set(key, value.text);
    return keys;
}

export function checkAppSettings(infra: Infra): string[] {
    const problems: string[] = [];
    const appSettings = appSettingKeys(infra);
    if (appSettings.size === 0) return [`${files.functionApp}: var appSettings is missing or not an object`];

    const config = infra.functionApp
        .resources()
        .find((resource) => resource.type.startsWith('Microsoft.Web/sites/config@'));
    if (
        stringLiteral(property(config?.body, 'name')) !== 'appsettings' ||
        property(config?.body, 'properties')?.text !== 'appSettings'
    ) {
        problems.push(
            `${files.functionApp}: no Microsoft.Web/sites/config 'appsettings' resource with properties: appSettings`,
        );
    }

    const functionAppModule = infra.main.modules().find((module) => module.path === './app/functionapp.bicep');
    const passed = objectProperties(property(functionAppModule?.body, 'params'));
    const mainParams = infra.main.params();

    for (const [name, spec] of Object.entries(catalogue)) {
        if (name === storageConnection) {
            for (const key of identityStorageSettings) {
                if (!appSettings.has(key)) problems.push(`app setting ${key} is missing (identity-based ${name})`);
            }
            if (appSettings.get(`${storageConnection}__credential`) !== "'managedidentity'") {
                problems.push(`app setting ${storageConnection}__credential must be 'managedidentity'`);
            }
            continue;
        }
        if (spec.localOnly) {
            if (appSettings.has(name))
                problems.push(`app setting ${name} is local development only and must not be set in Azure`);
            continue;
        }
        const value = appSettings.get(name);
        const param = paramNameOf(name);
        if (value === undefined) {
            problems.push(`app setting ${name} (shared/settings.ts) is not set by ${files.functionApp}`);
            continue;
        }
        if (!new RegExp(`\\b${param}\\b`).test(value)) {
            problems.push(`app setting ${name} should take its value from param ${param}, not ${value}`);
        }
        if (!passed.has(param)) problems.push(`${files.main} does not pass ${param} to the function app module`);
        if (name === 'MaskinportenKeyVaultUri') {
            if (passed.get(param)?.text !== 'keyVault.outputs.uri') {
                problems.push(`${param} must be the created vault's URI (keyVault.outputs.uri)`);
            }
            continue;
        }
        if (!mainParams.has(param)) problems.push(`${files.main} has no param ${param} for app setting ${name}`);
        if (spec.default !== undefined) {
            const bicepDefault = mainParams.get(param)?.defaultValue;
            const text = bicepDefault ? (stringLiteral(bicepDefault) ?? bicepDefault.text) : undefined;
            if (text !== spec.default) {
                problems.push(`param ${param} defaults to ${String(text)}, the code's default is ${spec.default}`);
            }
        }
    }

    for (const key of forbiddenAppSettings) {
        if (appSettings.has(key))
            problems.push(`app setting ${key} must not be set on Flex Consumption / without keys`);
    }
    const aiAuth = appSettings.get('APPLICATIONINSIGHTS_AUTHENTICATION_STRING') ?? '';
    if (!/ClientId=\$\{identityClientId\};Authorization=AAD/.test(aiAuth)) {
        problems.push(
            'APPLICATIONINSIGHTS_AUTHENTICATION_STRING must be ClientId=<identity client id>;Authorization=AAD',
        );
    }
    if (!appSettings.has('APPLICATIONINSIGHTS_CONNECTION_STRING'))
        problems.push('APPLICATIONINSIGHTS_CONNECTION_STRING is missing');
    return problems;
}

// ---------------------------------------------------------------------------------------------
// Storage: queues, containers, account hardening
// ---------------------------------------------------------------------------------------------

export const expectedQueues = Object.values(queues).flatMap((queue) => [queue, poisonQueueOf(queue)]);
export const expectedContainers: string[] = Object.values(containers);
export const expectedTables: string[] = Object.values(tables);

function stringArray(file: BicepFile, variable: string): string[] | undefined {
    const node = file.variable(variable);
    if (node?.type !== 'array') return undefined;
    return arrayItems(node).map((item) => stringLiteral(item) ?? item.text);
}

function sameSet(label: string, actual: string[], expected: string[]): string[] {
    const problems = expected
        .filter((name) => !actual.includes(name))
        .map((name) => `${label}: ${name} is not provisioned`);
    problems.push(
        ...actual.filter((name) => !expected.includes(name)).map((name) => `${label}: ${name} is not used by the code`),
    );
    const duplicates = actual.filter((name, index) => actual.indexOf(name) !== index);
    problems.push(...duplicates.map((name) => `${label}: ${name} is listed twice`));
    return problems;
}

export function checkQueuesAndContainers(infra: Infra): string[] {
    const problems: string[] = [];
    const storage = infra.storage;

    const queueNames = stringArray(storage, 'queueNames');
    if (!queueNames) problems.push(`${files.storage}: var queueNames (an array of names) is missing`);
    else problems.push(...sameSet('queue', queueNames, expectedQueues));

    const containerNames = stringArray(storage, 'containerNames');
    if (!containerNames) problems.push(`${files.storage}: var containerNames (an array of names) is missing`);
    else problems.push(...sameSet('container', containerNames, expectedContainers));

    const tableNames = stringArray(storage, 'tableNames');
    if (!tableNames) problems.push(`${files.storage}: var tableNames (an array of names) is missing`);
    else problems.push(...sameSet('table', tableNames, expectedTables));
    const tableResource = storage
        .resources()
        .find((r) => r.type.startsWith('Microsoft.Storage/storageAccounts/tableServices/tables@'));
    if (tableResource?.loopOver !== 'tableNames')
        problems.push(`${files.storage}: no table resource looping over tableNames`);

    const queueResource = storage
        .resources()
        .find((r) => r.type.startsWith('Microsoft.Storage/storageAccounts/queueServices/queues@'));
    if (queueResource?.loopOver !== 'queueNames')
        problems.push(`${files.storage}: no queue resource looping over queueNames`);

    const containerResource = storage
        .resources()
        .find((r) => r.type.startsWith('Microsoft.Storage/storageAccounts/blobServices/containers@'));
    const over = containerResource?.loopOver ?? '';
    if (!/\bcontainerNames\b/.test(over) || !/\bdeploymentContainerName\b/.test(over)) {
        problems.push(
            `${files.storage}: no container resource looping over containerNames and deploymentContainerName`,
        );
    }
    if (stringLiteral(property(containerResource?.body, 'properties', 'publicAccess')) !== 'None') {
        problems.push(`${files.storage}: containers must have publicAccess 'None'`);
    }

    // The Flex deployment package container is the one the function app deploys from.
    const modules = infra.main.modules();
    const storageModule = modules.find((m) => m.path === './app/storage.bicep');
    const appModule = modules.find((m) => m.path === './app/functionapp.bicep');
    const toStorage = property(storageModule?.body, 'params', 'deploymentContainerName')?.text;
    const toApp = property(appModule?.body, 'params', 'deploymentContainerName')?.text;
    if (!toStorage || toStorage !== toApp) {
        problems.push(`${files.main}: storage and function app modules must get the same deploymentContainerName`);
    }
    const functionApp = infra.functionApp.resources().find((r) => r.type.startsWith('Microsoft.Web/sites@'));
    const packageUrl = property(functionApp?.body, 'properties', 'functionAppConfig', 'deployment', 'storage', 'value');
    if (!packageUrl || !stringTemplate(packageUrl).includes('${deploymentContainerName}')) {
        problems.push(`${files.functionApp}: the deployment storage must be the deploymentContainerName container`);
    }
    return problems;
}

export function checkStorageAccount(infra: Infra): string[] {
    const account = infra.storage
        .resources()
        .find((r) => r.type.startsWith('Microsoft.Storage/storageAccounts@') && !r.existing);
    const props = property(account?.body, 'properties');
    const expected: [string, string][] = [
        ['allowSharedKeyAccess', 'false'],
        ['allowBlobPublicAccess', 'false'],
        ['minimumTlsVersion', "'TLS1_2'"],
        ['supportsHttpsTrafficOnly', 'true'],
        ['defaultToOAuthAuthentication', 'true'],
    ];
    return expected
        .filter(([key, value]) => objectProperties(props).get(key)?.text !== value)
        .map(([key, value]) => `${files.storage}: storage account properties.${key} must be ${value}`);
}

// ---------------------------------------------------------------------------------------------
// Role assignments
// ---------------------------------------------------------------------------------------------

export interface ExpectedAssignment {
    role: string;
    roleDefinitionId: string;
    principal: 'identityPrincipalId' | 'deployerPrincipalId' | 'operatorPrincipalId';
    /** The scope symbol in rbac.bicep. */
    scope: string;
}

export const expectedAssignments: ExpectedAssignment[] = [
    {
        role: 'Storage Blob Data Owner',
        roleDefinitionId: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
        principal: 'identityPrincipalId',
        scope: 'storage',
    },
    {
        role: 'Storage Queue Data Contributor',
        roleDefinitionId: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
        principal: 'identityPrincipalId',
        scope: 'storage',
    },
    {
        role: 'Storage Table Data Contributor',
        roleDefinitionId: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
        principal: 'identityPrincipalId',
        scope: 'storage',
    },
    {
        role: 'Monitoring Metrics Publisher',
        roleDefinitionId: '3913510d-42f4-4e42-8a64-420c390055eb',
        principal: 'identityPrincipalId',
        scope: 'applicationInsights',
    },
    {
        role: 'Key Vault Secrets User',
        roleDefinitionId: '4633458b-17de-408a-b874-0445c86b69e6',
        principal: 'identityPrincipalId',
        scope: 'keyVault',
    },
    {
        role: 'Key Vault Secrets Officer',
        roleDefinitionId: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
        principal: 'deployerPrincipalId',
        scope: 'keyVault',
    },
    {
        role: 'Storage Blob Data Contributor',
        roleDefinitionId: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
        principal: 'deployerPrincipalId',
        scope: `storage::blobService::addSubscriptions`,
    },
    {
        role: 'Storage Blob Data Contributor',
        roleDefinitionId: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
        principal: 'deployerPrincipalId',
        scope: `storage::blobService::removeSubscriptions`,
    },
    // The operators (issue 20 item 5): read what arrived and the ledger, replay poison, manage subscriptions, read the logs.
    {
        role: 'Storage Blob Data Reader',
        roleDefinitionId: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1',
        principal: 'operatorPrincipalId',
        scope: 'storage',
    },
    {
        role: 'Storage Table Data Reader',
        roleDefinitionId: '76199698-9eea-4c19-bc75-cec21354c6b6',
        principal: 'operatorPrincipalId',
        scope: 'storage::tableService::ledger',
    },
    {
        role: 'Storage Queue Data Contributor',
        roleDefinitionId: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
        principal: 'operatorPrincipalId',
        scope: 'storage',
    },
    ...['addSubscriptions', 'removeSubscriptions', 'state'].map((container): ExpectedAssignment => ({
        role: 'Storage Blob Data Contributor',
        roleDefinitionId: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
        principal: 'operatorPrincipalId',
        scope: `storage::blobService::${container}`,
    })),
    {
        role: 'Log Analytics Reader',
        roleDefinitionId: '73c42c96-874c-492b-b04d-ab87d138a893',
        principal: 'operatorPrincipalId',
        scope: 'logAnalytics',
    },
];

export interface ActualAssignment {
    symbol: string;
    roleDefinitionId: string;
    principal: string;
    scope: string;
    principalType?: string;
    condition?: string;
    name: string;
}

export function roleAssignments(infra: Infra): ActualAssignment[] {
    const roleIds = new Map<string, string>();
    for (const [key, value] of objectProperties(infra.rbac.variable('roleDefinitionIds'))) {
        roleIds.set(key, stringLiteral(value) ?? value.text);
    }
    return infra.rbac
        .resources()
        .filter((r) => r.type.startsWith('Microsoft.Authorization/roleAssignments@'))
        .map((r) => {
            const roleExpression = property(r.body, 'properties', 'roleDefinitionId')?.text ?? '';
            const match =
                /^subscriptionResourceId\('Microsoft\.Authorization\/roleDefinitions',\s*roleDefinitionIds\.(\w+)\)$/.exec(
                    roleExpression,
                );
            return {
                symbol: r.symbol,
                roleDefinitionId: match
                    ? (roleIds.get(match[1]) ?? `unknown roleDefinitionIds.${match[1]}`)
                    : roleExpression,
                principal: property(r.body, 'properties', 'principalId')?.text ?? '',
                scope: property(r.body, 'scope')?.text ?? '<resource group>',
                principalType: stringLiteral(property(r.body, 'properties', 'principalType')),
                condition: r.condition,
                name: property(r.body, 'name')?.text ?? '',
            };
        });
}

function describeAssignment(a: { roleDefinitionId: string; principal: string; scope: string }): string {
    return `${a.roleDefinitionId} for ${a.principal} on ${a.scope}`;
}

export function checkRoleAssignments(infra: Infra): string[] {
    const problems: string[] = [];
    for (const file of infra.bicep) {
        if (file === infra.rbac) continue;
        for (const r of file.resources()) {
            if (r.type.startsWith('Microsoft.Authorization/roleAssignments@')) {
                problems.push(`${file.file}: role assignment ${r.symbol} belongs in ${files.rbac}`);
            }
        }
    }
    const actual = roleAssignments(infra);
    const wanted = expectedAssignments.map(describeAssignment);
    const have = actual.map(describeAssignment);
    for (const expected of expectedAssignments) {
        if (!have.includes(describeAssignment(expected)))
            problems.push(`missing role assignment: ${expected.role} ${describeAssignment(expected)}`);
    }
    for (const assignment of actual) {
        const key = describeAssignment(assignment);
        if (!wanted.includes(key)) problems.push(`unexpected role assignment ${assignment.symbol}: ${key}`);
        if (have.indexOf(key) !== have.lastIndexOf(key))
            problems.push(`duplicate role assignment ${assignment.symbol}: ${key}`);
        if (!assignment.name.startsWith('guid('))
            problems.push(`${assignment.symbol}: name must be a deterministic guid(...)`);
        if (assignment.principal === 'identityPrincipalId') {
            if (assignment.principalType !== 'ServicePrincipal')
                problems.push(`${assignment.symbol}: principalType must be ServicePrincipal`);
            if (assignment.condition) problems.push(`${assignment.symbol}: the app's roles must not be conditional`);
        }
        if (assignment.principal === 'deployerPrincipalId' && assignment.condition !== 'grantDeployer') {
            problems.push(`${assignment.symbol}: the deployer's roles must be conditional on grantDeployer`);
        }
        if (assignment.principal === 'operatorPrincipalId' && assignment.condition !== 'grantOperator') {
            problems.push(`${assignment.symbol}: the operators' roles must be conditional on grantOperator`);
        }
    }

    // The scopes are the resources the module is given, and the containers are the code's.
    const scopes: Record<string, [string, string]> = {
        storage: ['Microsoft.Storage/storageAccounts@', 'storageAccountName'],
        applicationInsights: ['Microsoft.Insights/components@', 'applicationInsightsName'],
        keyVault: ['Microsoft.KeyVault/vaults@', 'keyVaultName'],
        logAnalytics: ['Microsoft.OperationalInsights/workspaces@', 'logAnalyticsName'],
    };
    for (const [symbol, [type, param]] of Object.entries(scopes)) {
        const resource = infra.rbac.resource(symbol);
        if (!resource?.existing || !resource.type.startsWith(type) || property(resource.body, 'name')?.text !== param) {
            problems.push(
                `${files.rbac}: ${symbol} must be the existing ${type.replace('@', '')} named by param ${param}`,
            );
        }
    }
    for (const [symbol, container] of [
        ['addSubscriptions', containers.addSubscriptions],
        ['removeSubscriptions', containers.removeSubscriptions],
        ['state', containers.state],
        ['ledger', tables.ledger],
    ]) {
        const resource = infra.rbac.resource(symbol);
        if (!resource?.existing || stringLiteral(property(resource.body, 'name')) !== container) {
            problems.push(`${files.rbac}: ${symbol} must be the existing ${container} container or table`);
        }
    }
    return problems;
}

// ---------------------------------------------------------------------------------------------
// Key Vault, monitoring, function app
// ---------------------------------------------------------------------------------------------

function expectProperties(file: BicepFile, typePrefix: string, expected: [string[], string][]): string[] {
    const resource = file.resources().find((r) => r.type.startsWith(typePrefix) && !r.existing);
    if (!resource) return [`${file.file}: no ${typePrefix.replace('@', '')} resource`];
    return expected
        .filter(([keys, value]) => property(resource.body, ...keys)?.text !== value)
        .map(([keys, value]) => `${file.file}: ${resource.symbol}.${keys.join('.')} must be ${value}`);
}

export function checkKeyVault(infra: Infra): string[] {
    const problems = expectProperties(infra.keyVault, 'Microsoft.KeyVault/vaults@', [
        [['properties', 'enableRbacAuthorization'], 'true'],
        [['properties', 'enableSoftDelete'], 'true'],
        [['properties', 'enablePurgeProtection'], 'true'],
        [['properties', 'softDeleteRetentionInDays'], 'softDeleteRetentionInDays'],
    ]);
    if (!infra.keyVault.params().has('softDeleteRetentionInDays'))
        problems.push(`${files.keyVault}: param softDeleteRetentionInDays is missing`);
    if (/accessPolicies/.test(infra.keyVault.source))
        problems.push(`${files.keyVault}: RBAC mode only, no access policies`);
    return problems;
}

export function checkMonitoring(infra: Infra): string[] {
    return [
        ...expectProperties(infra.monitoring, 'Microsoft.OperationalInsights/workspaces@', [
            [['properties', 'features', 'disableLocalAuth'], 'true'],
        ]),
        ...expectProperties(infra.monitoring, 'Microsoft.Insights/components@', [
            [['properties', 'DisableLocalAuth'], 'true'],
            [['properties', 'WorkspaceResourceId'], 'logAnalytics.id'],
        ]),
    ];
}

export function checkFunctionApp(infra: Infra): string[] {
    const problems = [
        ...expectProperties(infra.functionApp, 'Microsoft.Web/serverfarms@', [
            [['sku', 'name'], "'FC1'"],
            [['sku', 'tier'], "'FlexConsumption'"],
            [['properties', 'reserved'], 'true'],
        ]),
        ...expectProperties(infra.functionApp, 'Microsoft.Web/sites@', [
            [['kind'], "'functionapp,linux'"],
            [['identity', 'type'], "'UserAssigned'"],
            [['properties', 'httpsOnly'], 'true'],
            [['properties', 'functionAppConfig', 'runtime', 'name'], "'node'"],
            [['properties', 'functionAppConfig', 'runtime', 'version'], "'22'"],
            [
                ['properties', 'functionAppConfig', 'deployment', 'storage', 'authentication', 'type'],
                "'UserAssignedIdentity'",
            ],
        ]),
    ];
    if (/alwaysReady/.test(infra.functionApp.source))
        problems.push(`${files.functionApp}: no always-ready instances (idle cost)`);
    return problems;
}

// ---------------------------------------------------------------------------------------------
// Secrets
// ---------------------------------------------------------------------------------------------

const secretPatterns: [RegExp, string][] = [
    [/\blist[A-Z]\w*\s*\(|\.list\w*\s*\(/, 'a list*() call (listKeys, listSecrets, ...) reads keys'],
    [/AccountKey\s*=/i, 'an account key'],
    [/DefaultEndpointsProtocol\s*=/i, 'a storage connection string'],
    [/SharedAccess(Key|Signature)\s*=/i, 'a shared access key or signature'],
    [/InstrumentationKey\s*=/i, 'an instrumentation key'],
    [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a private key'],
];

/** Hosts that must come from environment() (and the app's own properties), never from literals. */
const hardcodedHosts =
    /core\.windows\.net|azurewebsites\.net|vault\.azure\.net|management\.azure\.com|login\.microsoftonline\.com/i;

export function checkNoSecrets(infra: Infra): string[] {
    const problems: string[] = [];
    const texts: [string, string][] = [
        ...infra.bicep.map((file): [string, string] => [file.file, file.source]),
        [files.parameters, infra.parametersJson],
        [files.azureYaml, infra.azureYaml],
    ];
    for (const [file, text] of texts) {
        for (const [pattern, what] of secretPatterns) {
            if (pattern.test(text)) problems.push(`${file}: contains ${what} (${pattern.source})`);
        }
    }
    for (const file of infra.bicep) {
        for (const param of file.params().values()) {
            if (param.decorators.includes('secure') || /^secure/i.test(param.type)) {
                problems.push(
                    `${file.file}: param ${param.name} is a secret input; secrets belong in Key Vault, not in parameters`,
                );
            }
        }
        for (const output of file.outputs().values()) {
            if (output.decorators.includes('secure') || /^secure/i.test(output.type)) {
                problems.push(`${file.file}: output ${output.name} is @secure: outputs must not carry secrets`);
            }
            if (
                /ConnectionString|InstrumentationKey|\.keys\b|primaryKey|secondaryKey|\blist\w*\(/i.test(
                    output.value.text,
                )
            ) {
                problems.push(`${file.file}: output ${output.name} exposes ${output.value.text}`);
            }
        }
        for (const text of file.strings()) {
            if (hardcodedHosts.test(text))
                problems.push(`${file.file}: hard-coded host in '${text}'; use environment()`);
        }
    }
    // Parameter values are azd environment references only (with the param's default), never literal values.
    for (const [name, value] of Object.entries(parameterValues(infra))) {
        if (typeof value !== 'string' || !/^\$\{[A-Z0-9_]+(=[^}]*)?\}$/.test(value)) {
            problems.push(
                `${files.parameters}: ${name} must be an azd \${VARIABLE} reference, not ${JSON.stringify(value)}`,
            );
        }
    }
    // No app setting carries a value that is secret in the catalogue.
    for (const [name, spec] of Object.entries(catalogue)) {
        if (spec.secret && appSettingKeys(infra).has(name)) problems.push(`app setting ${name} is a secret`);
    }
    return problems;
}

// ---------------------------------------------------------------------------------------------
// Parameters file, azure.yaml, outputs
// ---------------------------------------------------------------------------------------------

function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parameterValues(infra: Infra): Record<string, unknown> {
    const parsed: unknown = JSON.parse(infra.parametersJson);
    if (!isRecord(parsed) || !isRecord(parsed.parameters))
        throw new Error(`${files.parameters} has no parameters object`);
    const values: Record<string, unknown> = {};
    for (const [name, entry] of Object.entries(parsed.parameters)) values[name] = isRecord(entry) ? entry.value : entry;
    return values;
}

export function checkParametersFile(infra: Infra): string[] {
    const problems: string[] = [];
    const parsed: unknown = JSON.parse(infra.parametersJson);
    if (!isRecord(parsed) || parsed.contentVersion !== '1.0.0.0' || typeof parsed.$schema !== 'string') {
        problems.push(`${files.parameters}: needs $schema and contentVersion 1.0.0.0`);
    }
    const inFile = Object.keys(parameterValues(infra));
    const declared = infra.main.params();
    for (const name of inFile) {
        if (!declared.has(name)) problems.push(`${files.parameters}: ${name} is not a param of ${files.main}`);
    }
    for (const param of declared.values()) {
        if (!param.defaultValue && !inFile.includes(param.name)) {
            problems.push(`${files.main}: param ${param.name} has no default and is missing from ${files.parameters}`);
        }
    }
    if (infra.main.targetScope() !== 'subscription') problems.push(`${files.main}: targetScope must be 'subscription'`);
    return problems;
}

type YamlMap = Map<string, YamlMap | string>;

/** Just enough YAML for azure.yaml: nested mappings of scalars, comments ignored. */
export function parseSimpleYaml(text: string): YamlMap {
    const root: YamlMap = new Map();
    const stack: { indent: number; map: YamlMap }[] = [{ indent: -1, map: root }];
    for (const raw of text.split(/\r?\n/)) {
        const line = raw.replace(/\s+#.*$/, '');
        if (!line.trim() || line.trimStart().startsWith('#')) continue;
        const match = /^(\s*)([\w.-]+):\s*(.*)$/.exec(line);
        if (!match) throw new Error(`unsupported YAML line: ${raw}`);
        const indent = match[1].length;
        while (stack[stack.length - 1].indent >= indent) stack.pop();
        const parent = stack[stack.length - 1].map;
        if (match[3] === '') {
            const child: YamlMap = new Map();
            parent.set(match[2], child);
            stack.push({ indent, map: child });
        } else {
            parent.set(match[2], match[3].replace(/^(['"])(.*)\1$/, '$2'));
        }
    }
    return root;
}

/** The azd-service-name tag values the templates set, resolved through module params. */
export function azdServiceNames(infra: Infra): string[] {
    const names: string[] = [];
    for (const file of infra.bicep) {
        for (const resource of file.resources()) {
            const tags = property(resource.body, 'tags');
            if (!tags?.text.includes('azd-service-name')) continue;
            const tagValue = tags
                .descendantsOfType('object_property')
                .find((p) => p?.text.startsWith("'azd-service-name'"));
            const valueNode = tagValue
                ? objectProperties(tagValue.parent ?? undefined).get('azd-service-name')
                : undefined;
            if (!valueNode) continue;
            const literal = stringLiteral(valueNode);
            if (literal) {
                names.push(literal);
                continue;
            }
            // A module param: take what main.bicep passes, or the param's default.
            const module = infra.main.modules().find((m) => path.posix.join('infra', m.path) === file.file);
            const passed = property(module?.body, 'params', valueNode.text);
            const fallback = file.params().get(valueNode.text)?.defaultValue;
            const resolved = stringLiteral(passed) ?? stringLiteral(fallback);
            if (resolved) names.push(resolved);
        }
    }
    return names;
}

export function checkAzureYaml(infra: Infra): string[] {
    const problems: string[] = [];
    const yaml = parseSimpleYaml(infra.azureYaml);
    const services = yaml.get('services');
    if (!(services instanceof Map) || services.size === 0) return ['azure.yaml: no services'];
    const tagged = azdServiceNames(infra);
    for (const [name, service] of services) {
        if (!(service instanceof Map)) {
            problems.push(`azure.yaml: service ${name} is not a mapping`);
            continue;
        }
        if (!tagged.includes(name))
            problems.push(`azure.yaml: service ${name} matches no azd-service-name tag (tags: ${tagged.join(', ')})`);
        if (service.get('host') !== 'function') problems.push(`azure.yaml: service ${name} must have host: function`);
        if (service.get('language') !== 'ts') problems.push(`azure.yaml: service ${name} must have language: ts`);
        if (service.get('project') !== '.') problems.push(`azure.yaml: service ${name} must have project: .`);
        // azd must ship exactly what `npm run package` builds, with its node_modules as they are.
        const packageFolder = `${defaultOutDir}/${packageFolderName}`;
        if (service.get('dist') !== packageFolder) {
            problems.push(`azure.yaml: service ${name} must have dist: ${packageFolder} (npm run package's folder)`);
        }
        if (service.get('remoteBuild') !== 'false') {
            problems.push(
                `azure.yaml: service ${name} must have remoteBuild: false (the package carries node_modules)`,
            );
        }
        const hooks = service.get('hooks');
        const prepackage = hooks instanceof Map ? hooks.get('prepackage') : undefined;
        if (!(prepackage instanceof Map) || prepackage.get('run') !== 'npm run package') {
            problems.push(
                `azure.yaml: service ${name} must build the package in a prepackage hook: run: npm run package`,
            );
        }
    }
    const infraSection = yaml.get('infra');
    if (
        !(infraSection instanceof Map) ||
        infraSection.get('path') !== 'infra' ||
        infraSection.get('module') !== 'main'
    ) {
        problems.push('azure.yaml: infra must be path: infra, module: main');
    }
    return problems;
}

/** The EventsReceiver route as registered in functions/eventsReceiver.ts. */
export function eventsReceiverRoute(infra: Infra): string | undefined {
    const registration = /app\.http\(\s*'EventsReceiver'\s*,\s*\{([\s\S]*?)\}\s*\)/.exec(infra.eventsReceiverSource);
    return registration ? /route:\s*'([^']+)'/.exec(registration[1])?.[1] : undefined;
}

export function routePrefix(infra: Infra): string {
    const host: unknown = JSON.parse(infra.hostJson);
    const extensions = isRecord(host) ? host.extensions : undefined;
    const http = isRecord(extensions) ? extensions.http : undefined;
    const prefix = isRecord(http) ? http.routePrefix : undefined;
    return typeof prefix === 'string' ? prefix : 'api';
}

export function checkOutputs(infra: Infra): string[] {
    const problems: string[] = [];
    const outputs = infra.main.outputs();
    const text = (name: string): string | undefined => {
        const output = outputs.get(name);
        return output ? stringTemplate(output.value) : undefined;
    };
    const route = eventsReceiverRoute(infra);
    const webhook = text('WEBHOOK_URL');
    const expectedPath = `/${routePrefix(infra)}/${route ?? '<no EventsReceiver route>'}`;
    if (!webhook?.startsWith('https://') || !webhook.endsWith(expectedPath)) {
        problems.push(`output WEBHOOK_URL must be https://<host>${expectedPath}, is ${String(webhook)}`);
    }
    if (webhook && /code=|\?/.test(webhook)) problems.push('output WEBHOOK_URL must not carry a key');
    const keyCommand = text('FUNCTION_KEY_COMMAND') ?? '';
    if (!/^az functionapp (function )?keys list /.test(keyCommand) || !keyCommand.includes('EventsReceiver')) {
        problems.push(
            `output FUNCTION_KEY_COMMAND must be an az functionapp ... keys list command for EventsReceiver, is '${keyCommand}'`,
        );
    }
    for (const [name, expected] of [
        ['AZURE_STORAGE_ACCOUNT_NAME', 'storage.outputs.name'],
        ['AZURE_KEY_VAULT_NAME', 'keyVault.outputs.name'],
        ['AZURE_KEY_VAULT_URI', 'keyVault.outputs.uri'],
        ['AZURE_RESOURCE_GROUP', 'rg.name'],
        ['AZURE_FUNCTION_NAME', 'functionApp.outputs.name'],
    ]) {
        if (outputs.get(name)?.value.text !== expected) problems.push(`output ${name} must be ${expected}`);
    }
    for (const output of outputs.values()) {
        if (output.type !== 'string') problems.push(`output ${output.name} must be a string`);
    }
    return problems;
}

/** docs/deploy.md explains every output and every parameter of main.bicep. */
export function checkDeployDoc(infra: Infra): string[] {
    const problems: string[] = [];
    for (const name of infra.main.outputs().keys()) {
        if (!infra.deployDoc.includes(`\`${name}\``))
            problems.push(`${files.deployDoc} does not explain output ${name}`);
    }
    for (const name of infra.main.params().keys()) {
        if (['environmentName', 'location', 'principalId'].includes(name)) continue;
        if (!infra.deployDoc.includes(`\`${name}\``))
            problems.push(`${files.deployDoc} does not explain param ${name}`);
    }
    return problems;
}

// ---------------------------------------------------------------------------------------------
// host.json
// ---------------------------------------------------------------------------------------------

export function queueMessageEncoding(infra: Infra): unknown {
    const host: unknown = JSON.parse(infra.hostJson);
    const extensions = isRecord(host) ? host.extensions : undefined;
    const queuesSection = isRecord(extensions) ? extensions.queues : undefined;
    return isRecord(queuesSection) ? queuesSection.messageEncoding : undefined;
}
