/**
 * What an agency's production needs from the templates (issue 20), as checks that return problems:
 * both network modes followed through main.bicep into the modules (support/evaluate.ts), the audit
 * diagnostic settings, the retention and backup parameters wired with safe defaults, and the list
 * of what gets created in docs/deploy.md equal to what the templates create.
 */
import path from 'node:path';
import { containers } from '../../../shared/names';
import { arrayItems, objectProperties, property, stringLiteral, type BicepFile, type Resource } from './bicepTree';
import { evaluate, Unknown, type Scope, type Value } from './evaluate';
import { expectedContainers, expectedQueues, expectedTables, files, type Infra } from './invariants';

// ---------------------------------------------------------------------------------------------
// Following a parameter into the modules
// ---------------------------------------------------------------------------------------------

/** main.bicep's parameters: their defaults where they are literal, then the overrides. */
export function mainScope(infra: Infra, overrides: Scope = {}): Scope {
    const scope: Scope = {};
    for (const param of infra.main.params().values()) {
        if (param.defaultValue) scope[param.name] = evaluate(param.defaultValue, scope);
    }
    return { ...scope, ...overrides };
}

export function bicepFile(infra: Infra, file: string): BicepFile {
    const found = infra.bicep.find((candidate) => candidate.file === file);
    if (!found) throw new Error(`${file} is missing`);
    return found;
}

/** A module's own scope: what main.bicep passes it, evaluated in main's scope, then the module's defaults. */
export function moduleScope(infra: Infra, modulePath: string, main: Scope): Scope {
    const module = infra.main.modules().find((candidate) => candidate.path === modulePath);
    const file = bicepFile(infra, path.posix.join('infra', modulePath));
    const scope: Scope = {};
    for (const [name, value] of objectProperties(property(module?.body, 'params'))) scope[name] = evaluate(value, main);
    for (const param of file.params().values()) {
        if (!(param.name in scope) && param.defaultValue) scope[param.name] = evaluate(param.defaultValue, scope);
    }
    return scope;
}

/** Whether main.bicep deploys the module: true without a condition, else the condition's value. */
export function moduleDeployed(infra: Infra, modulePath: string, main: Scope): Value {
    const node = infra.main.root.descendantsOfType('module_declaration').find((candidate) => {
        const target = candidate?.namedChildren.find((child) => child?.type === 'string');
        return target && stringLiteral(target) === modulePath;
    });
    const condition = node?.namedChildren.find((child) => child?.type === 'if_statement');
    if (!condition) return true;
    return evaluate(
        condition.namedChildren.find((child) => child?.type === 'parenthesized_expression') ?? undefined,
        main,
    );
}

function resourceOfType(file: BicepFile, typePrefix: string): Resource | undefined {
    return file.resources().find((resource) => resource.type.startsWith(typePrefix) && !resource.existing);
}

const show = (value: Value): string => (value instanceof Unknown ? `<${value.text}>` : JSON.stringify(value));

// ---------------------------------------------------------------------------------------------
// Network isolation
// ---------------------------------------------------------------------------------------------

/** The groups Storage and Key Vault must be reached through with vnetEnabled. */
export const privateGroups = ['blob', 'queue', 'table', 'vault'];

export interface NetworkPicture {
    networkDeployed: Value;
    privateEndpointsDeployed: Value;
    storagePublicNetworkAccess: Value;
    storageDefaultAction: Value;
    keyVaultPublicNetworkAccess: Value;
    keyVaultDefaultAction: Value;
    /** The function app's own host (the webhook). */
    appPublicNetworkAccess: Value;
    appSubnet: Value;
}

export function networkPicture(infra: Infra, vnetEnabled: boolean): NetworkPicture {
    const main = mainScope(infra, { vnetEnabled });
    const storage = moduleScope(infra, './app/storage.bicep', main);
    const vault = moduleScope(infra, './app/keyvault.bicep', main);
    const app = moduleScope(infra, './app/functionapp.bicep', main);
    const account = resourceOfType(infra.storage, 'Microsoft.Storage/storageAccounts@');
    const keyVault = resourceOfType(infra.keyVault, 'Microsoft.KeyVault/vaults@');
    const site = resourceOfType(infra.functionApp, 'Microsoft.Web/sites@');
    const acl = (resource: Resource | undefined, scope: Scope): Value => {
        const value = evaluate(property(resource?.body, 'properties', 'networkAcls'), scope);
        return value && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Unknown)
            ? value.defaultAction
            : value;
    };
    return {
        networkDeployed: moduleDeployed(infra, './app/network.bicep', main),
        privateEndpointsDeployed: moduleDeployed(infra, './app/privateEndpoints.bicep', main),
        storagePublicNetworkAccess: evaluate(property(account?.body, 'properties', 'publicNetworkAccess'), storage),
        storageDefaultAction: acl(account, storage),
        keyVaultPublicNetworkAccess: evaluate(property(keyVault?.body, 'properties', 'publicNetworkAccess'), vault),
        keyVaultDefaultAction: acl(keyVault, vault),
        appPublicNetworkAccess: evaluate(property(site?.body, 'properties', 'publicNetworkAccess'), app),
        appSubnet: evaluate(property(site?.body, 'properties', 'virtualNetworkSubnetId'), app),
    };
}

export function checkNetworkMode(infra: Infra, vnetEnabled: boolean): string[] {
    const picture = networkPicture(infra, vnetEnabled);
    const mode = `vnetEnabled=${vnetEnabled}`;
    const expected: [keyof NetworkPicture, (value: Value) => boolean, string][] = vnetEnabled
        ? [
              ['networkDeployed', (v) => v === true, 'true'],
              ['privateEndpointsDeployed', (v) => v === true, 'true'],
              ['storagePublicNetworkAccess', (v) => v === 'Disabled', "'Disabled'"],
              ['storageDefaultAction', (v) => v === 'Deny', "'Deny'"],
              ['keyVaultPublicNetworkAccess', (v) => v === 'Disabled', "'Disabled'"],
              ['keyVaultDefaultAction', (v) => v === 'Deny', "'Deny'"],
              ['appPublicNetworkAccess', (v) => v === 'Enabled', "'Enabled' (Altinn must reach the webhook)"],
              [
                  'appSubnet',
                  (v) => v instanceof Unknown && /appSubnetId/.test(v.text),
                  "the network module's appSubnetId",
              ],
          ]
        : [
              ['networkDeployed', (v) => v === false, 'false'],
              ['privateEndpointsDeployed', (v) => v === false, 'false'],
              ['storagePublicNetworkAccess', (v) => v === 'Enabled', "'Enabled'"],
              ['keyVaultPublicNetworkAccess', (v) => v === 'Enabled', "'Enabled'"],
              ['appPublicNetworkAccess', (v) => v === 'Enabled', "'Enabled'"],
              ['appSubnet', (v) => v === null, 'null (no integration)'],
          ];
    return expected
        .filter(([key, ok]) => !ok(picture[key]))
        .map(([key, , want]) => `${mode}: ${key} must be ${want}, is ${show(picture[key])}`);
}

/** Blob, queue, table and vault endpoints, each with its private DNS zone linked to the network. */
export function checkPrivateEndpoints(infra: Infra): string[] {
    const file = bicepFile(infra, 'infra/app/privateEndpoints.bicep');
    const problems: string[] = [];
    const endpoints = arrayItems(file.variable('endpoints')).map((item) => objectProperties(item));
    const groups = endpoints.map((endpoint) => stringLiteral(endpoint.get('name')));
    for (const group of privateGroups) {
        if (!groups.includes(group)) problems.push(`${file.file}: no private endpoint for ${group}`);
    }
    for (const [type, over] of [
        ['Microsoft.Network/privateEndpoints@', 'endpoints'],
        ['Microsoft.Network/privateDnsZones@', 'endpoints'],
        ['Microsoft.Network/privateDnsZones/virtualNetworkLinks@', 'endpoints'],
        ['Microsoft.Network/privateEndpoints/privateDnsZoneGroups@', 'endpoints'],
    ]) {
        const resource = resourceOfType(file, type);
        if (!resource?.loopOver?.includes(over))
            problems.push(`${file.file}: no ${type.replace('@', '')} per endpoint`);
    }
    const groupIds = property(resourceOfType(file, 'Microsoft.Network/privateEndpoints@')?.body, 'properties');
    if (!/groupIds:\s*\[\s*endpoint\.name\s*\]/.test(groupIds?.text ?? '')) {
        problems.push(`${file.file}: each endpoint's groupIds must be its group (endpoint.name)`);
    }
    return problems;
}

// ---------------------------------------------------------------------------------------------
// Audit
// ---------------------------------------------------------------------------------------------

export const storageAuditCategories = ['StorageRead', 'StorageWrite', 'StorageDelete'];

export function checkAudit(infra: Infra): string[] {
    const file = bicepFile(infra, 'infra/app/audit.bicep');
    const problems: string[] = [];
    const settings = file.resources().filter((r) => r.type.startsWith('Microsoft.Insights/diagnosticSettings@'));
    const byScope = new Map(settings.map((r) => [property(r.body, 'scope')?.text ?? '', r]));
    const categoriesOf = (resource: Resource | undefined): string[] => {
        const logs = property(resource?.body, 'properties', 'logs');
        const list = logs?.type === 'identifier' ? file.variable(logs.text) : logs;
        return arrayItems(list)
            .filter((item) => property(item, 'enabled')?.text === 'true')
            .map((item) => stringLiteral(property(item, 'category')) ?? '');
    };
    for (const service of ['blobService', 'queueService', 'tableService']) {
        const resource = byScope.get(`storage::${service}`);
        const categories = categoriesOf(resource);
        for (const category of storageAuditCategories) {
            if (!categories.includes(category)) problems.push(`${file.file}: ${service} does not send ${category}`);
        }
    }
    if (!categoriesOf(byScope.get('vault')).includes('AuditEvent'))
        problems.push(`${file.file}: the Key Vault does not send AuditEvent`);
    for (const resource of settings) {
        if (property(resource.body, 'properties', 'workspaceId')?.text !== 'logAnalyticsWorkspaceId') {
            problems.push(`${file.file}: ${resource.symbol} must send to the workspace (logAnalyticsWorkspaceId)`);
        }
        if (resource.condition) problems.push(`${file.file}: ${resource.symbol} must not be optional`);
    }
    const module = infra.main.modules().find((m) => m.path === './app/audit.bicep');
    if (property(module?.body, 'params', 'logAnalyticsWorkspaceId')?.text !== 'monitoring.outputs.logAnalyticsId') {
        problems.push(
            `${files.main}: the audit module must get the deployment's workspace (monitoring.outputs.logAnalyticsId)`,
        );
    }
    return problems;
}

// ---------------------------------------------------------------------------------------------
// Retention and backup
// ---------------------------------------------------------------------------------------------

/** The containers that hold submissions, each with its lifecycle parameters in main.bicep. */
export const retainedContainers = [containers.inbound, containers.broker, containers.quarantine];

export function checkRetention(infra: Infra): string[] {
    const problems: string[] = [];
    const main = mainScope(infra);
    const retention = moduleScope(infra, './app/retention.bicep', main);
    const storage = moduleScope(infra, './app/storage.bicep', main);
    // Off by default: no lifecycle rule, no versioning, no lock.
    const entries = retention.containerRetention;
    if (!Array.isArray(entries)) return [`${files.main}: retention.containerRetention must be a list`];
    const listed = entries.map((entry) => (entry && typeof entry === 'object' && !Array.isArray(entry) ? entry : {}));
    for (const container of retainedContainers) {
        const entry = listed.find((candidate) => (candidate as Record<string, Value>).container === container);
        if (!entry) problems.push(`${files.main}: no lifecycle entry for container ${container}`);
        else if (Object.values(entry).some((value) => typeof value === 'number' && value !== 0)) {
            problems.push(`${files.main}: the lifecycle of ${container} must be off by default (0 days)`);
        }
    }
    for (const entry of listed) {
        const container = (entry as Record<string, Value>).container;
        if (typeof container !== 'string' || !(Object.values(containers) as string[]).includes(container)) {
            problems.push(
                `${files.main}: lifecycle entry for ${show(container)}, which is not a container of shared/names.ts`,
            );
        }
    }
    if (retention.deleteLock !== false) problems.push(`${files.main}: the delete lock must be off by default`);
    if (storage.blobVersioning !== false) problems.push(`${files.main}: blob versioning must be off by default`);
    // Each switch reaches its resource.
    const retentionFile = bicepFile(infra, 'infra/app/retention.bicep');
    const lock = resourceOfType(retentionFile, 'Microsoft.Authorization/locks@');
    if (
        lock?.condition !== 'deleteLock' ||
        stringLiteral(property(lock.body, 'properties', 'level')) !== 'CanNotDelete'
    ) {
        problems.push(`${retentionFile.file}: a CanNotDelete lock conditional on deleteLock`);
    }
    const policy = resourceOfType(retentionFile, 'Microsoft.Storage/storageAccounts/managementPolicies@');
    if (
        policy?.condition !== '!empty(rules)' ||
        property(policy.body, 'properties', 'policy', 'rules')?.text !== 'rules'
    ) {
        problems.push(`${retentionFile.file}: a management policy with the rules, deployed only when there are some`);
    }
    const blobService = resourceOfType(infra.storage, 'Microsoft.Storage/storageAccounts/blobServices@');
    if (property(blobService?.body, 'properties', 'isVersioningEnabled')?.text !== 'blobVersioning') {
        problems.push(`${files.storage}: isVersioningEnabled must be param blobVersioning`);
    }
    if (
        property(blobService?.body, 'properties', 'deleteRetentionPolicy', 'days')?.text !==
        'blobSoftDeleteRetentionInDays'
    ) {
        problems.push(`${files.storage}: deleteRetentionPolicy.days must be param blobSoftDeleteRetentionInDays`);
    }
    return problems;
}

// ---------------------------------------------------------------------------------------------
// docs/deploy.md: what gets created
// ---------------------------------------------------------------------------------------------

/** Every resource type the templates create (not `existing`), without API version. */
export function createdResourceTypes(infra: Infra): string[] {
    const types = infra.bicep.flatMap((file) =>
        file
            .resources()
            .filter((resource) => !resource.existing)
            .map((resource) => resource.type.replace(/@.*$/, '')),
    );
    // A nested child (`resource x 'blobServices'`) has a relative type; the templates declare none but existing ones.
    return [...new Set([...types.filter((type) => type.includes('/')), 'Microsoft.Resources/resourceGroups'])].sort();
}

/** The backticked names of the list item of docs/deploy.md that starts with `- **<label>**` (with its continuation lines). */
export function documentedNames(doc: string, label: string): string[] | undefined {
    const lines = doc.split('\n');
    const start = lines.findIndex((candidate) => candidate.startsWith(`- **${label}**`));
    if (start < 0) return undefined;
    const end = lines.findIndex((line, index) => index > start && !/^ {2,}\S/.test(line));
    const item = lines.slice(start, end < 0 ? undefined : end).join(' ');
    return [...item.matchAll(/`([^`]+)`/g)].map((match) => match[1]);
}

function sameList(what: string, documented: string[] | undefined, created: string[]): string[] {
    if (!documented) return [`${files.deployDoc} has no "- **${what}**" line in "What gets created"`];
    return [
        ...created
            .filter((name) => !documented.includes(name))
            .map((name) => `${files.deployDoc} does not list ${what.toLowerCase()} ${name}`),
        ...documented
            .filter((name) => !created.includes(name))
            .map((name) => `${files.deployDoc} lists ${what.toLowerCase()} ${name}, which infra does not create`),
    ];
}

export function checkResourceList(infra: Infra): string[] {
    const section = infra.deployDoc.split(/^## /m).find((part) => part.startsWith('What gets created')) ?? '';
    return [
        ...sameList('Resource types', documentedNames(section, 'Resource types'), createdResourceTypes(infra)),
        ...sameList('Queues', documentedNames(section, 'Queues'), expectedQueues),
        ...sameList('Containers', documentedNames(section, 'Containers'), expectedContainers),
        ...sameList('Tables', documentedNames(section, 'Tables'), expectedTables),
    ];
}
