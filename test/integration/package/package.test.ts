import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { BlobServiceClient } from '@azure/storage-blob';
import yauzl from 'yauzl';
import { isModuleFile, mainBundle, providedModules } from '../../../dev/package/bundle';
import { buildPackage, packagedMain, type BuiltPackage } from '../../../dev/package/build';
import { deferredFile, deferredPackages } from '../../../dev/package/deferred';
import { listFiles, totalBytes, type PackageFile } from '../../../dev/package/files';
import { moduleLoads, unavailableModules } from '../../../dev/package/imports';
import { developmentFolders, packageFolderOf } from '../../../dev/package/lockfile';
import { noticesFileName } from '../../../dev/package/notices';
import { mapStackTrace } from '../../../dev/package/stackTrace';
import { type Simulator } from '../../../dev/simulator/simulator';
import type { CreatedInstance } from '../../../dev/simulator/types';
import { feedbackValues, parseInstanceSource, renderFeedback } from '../../../shared/instances';
import { requiredSettingNames, settingNames, settings, type SettingName } from '../../../shared/settings';
import type { StatusReport } from '../../../shared/status';
import { startAzurite, type AzuriteInstance } from '../../support/azurite';
import { repoRoot, startHostProcess, type HostProcess } from '../../support/host';
import {
    clientRegistration,
    clientSettings,
    createClientCredentials,
    SERVICEOWNER_SCOPES,
    startTestSimulator,
    waitUntil,
    type ClientCredentials,
} from '../../support/simulator';
import { pkcs12Base64 } from '../../unit/altinn/fixtures';

/*
 * The deployment package as Azure runs it: `npm run package`'s builder makes the folder and zip
 * in an empty folder outside the repository (no node_modules anywhere above it), once; the zip is
 * checked to hold exactly that folder, and the local Functions host runs the folder.
 * First with only the required settings: every function the code registers loads, and one
 * submission goes from the webhook to `complete`. Then restarted with the optional features set,
 * for what bundling could break (JSON and template files, lazily loaded SDK parts, the files
 * loaded at first use): feedback from the built-in template, catch-up, reconciliation, a Broker
 * download resumed with a Range request (signing with a PKCS#12 key), and the status page.
 * Needs `npm run build` first (for the host; npm test does).
 */

jest.setTimeout(300_000);

const app = 'package-app';
const taskEvent = 'app.instance.process.movedTo.Task_2';
const brokerResource = 'aos-package-broker';
const orgNumber = '405003309';
const scopes = [...SERVICEOWNER_SCOPES, 'altinn:events.subscribe', 'altinn:broker.read'];
const workDir = mkdtempSync(join(tmpdir(), 'aos-package-'));
const testStart = new Date(Date.now() - 60_000);
let built: BuiltPackage;
let azurite: AzuriteInstance;
let sim: Simulator;
let creds: ClientCredentials;
let host: HostProcess;
const timings: Record<string, number> = {};

async function timed<T>(name: string, work: () => Promise<T>): Promise<T> {
    const started = Date.now();
    try {
        return await work();
    } finally {
        timings[name] = Date.now() - started;
    }
}

/** The zip's entries as paths and sizes (from its central directory; nothing is unpacked). */
function zipEntries(zipPath: string): Promise<PackageFile[]> {
    return new Promise((resolveEntries, reject) => {
        yauzl.open(zipPath, { lazyEntries: true }, (error, zip) => {
            if (error) return reject(error);
            const entries: PackageFile[] = [];
            zip.on('entry', (entry: yauzl.Entry) => {
                entries.push({ path: entry.fileName, bytes: entry.uncompressedSize });
                zip.readEntry();
            });
            zip.on('end', () => resolveEntries(entries.sort((a, b) => (a.path < b.path ? -1 : 1))));
            zip.on('error', reject);
            zip.readEntry();
        });
    });
}

/** The names the code registers: every `app.<trigger>('Name', ...)` call in functions/. */
function registeredFunctionNames(): string[] {
    const folder = join(repoRoot, 'functions');
    return readdirSync(folder)
        .filter((file) => file.endsWith('.ts'))
        .flatMap((file) => [...readFileSync(join(folder, file), 'utf8').matchAll(/\bapp\.\w+\(\s*'([^']+)'/g)])
        .map((match) => match[1])
        .sort();
}

/** The functions the host listed at start-up ("Functions:" ... "Host started"). */
function loadedFunctionNames(output: string): string[] {
    const listing = output.slice(output.indexOf('Functions:'), output.search(/Host started \(/));
    return [...listing.matchAll(/^ {8}(\w+): /gm)].map((match) => match[1]).sort();
}

/** App settings for the host: exactly the required ones, every other catalogue setting unset. */
function requiredSettingsOnly(values: Partial<Record<SettingName, string>>): Record<string, string | undefined> {
    // Locally the inline key stands in for Key Vault, as the catalogue says.
    const inlineKey = settings.MaskinportenKey;
    const required = [
        ...requiredSettingNames().filter((name) => !inlineKey.replaces.includes(name)),
        'MaskinportenKey' as const,
    ];
    const env: Record<string, string | undefined> = Object.fromEntries(settingNames.map((name) => [name, undefined]));
    for (const name of required) {
        const value = values[name];
        if (!value) throw new Error(`no value for the required setting ${name}`);
        env[name] = value;
    }
    return env;
}

function startPackagedHost(env: Record<string, string | undefined>): Promise<HostProcess> {
    return startHostProcess({
        appRoot: built.folder,
        // Module resolution from the package's files only.
        env: { ...env, NODE_PATH: undefined },
        startTimeoutMs: 60_000,
    });
}

/** Where bench/moduleProbe.ts writes what the first host loaded after the code load, up to its first webhook. */
const probeFile = join(workDir, 'first-webhook-modules.json');
const withModuleProbe = {
    NODE_OPTIONS: `--require ${join(repoRoot, 'dist', 'bench', 'moduleProbe.js')}`,
    AOS_MODULE_PROBE: probeFile,
};

async function postEvent(event: unknown): Promise<void> {
    const response = await fetch(`${host.url}/api/eventsreceiver`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify(event),
    });
    expect(response.status).toBe(200);
}

/** Runs a timer function now, as the host's admin API does. */
async function runFunction(name: string): Promise<void> {
    const response = await fetch(`${host.url}/admin/functions/${name}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ input: '' }),
    });
    expect(response.status).toBe(202);
}

async function completed(created: CreatedInstance): Promise<void> {
    await waitUntil(
        () => (sim.counters().completes[created.id] ? true : undefined),
        60_000,
        `complete of ${created.id}`,
    );
}

const blobs = () => BlobServiceClient.fromConnectionString(azurite.connectionString);

/** An ended instance with one form element, announced (or not) as `events` says. */
function completedInstance(events: { publish: boolean; deliver?: boolean }): Promise<CreatedInstance> {
    return sim.control.createInstance({
        app,
        process: 'completed',
        ...events,
        dataElements: [{ dataType: 'model', content: '<form/>' }],
    });
}

beforeAll(async () => {
    const [packaged, startedAzurite, startedSim] = await Promise.all([
        timed('package', () => buildPackage({ root: repoRoot, outDir: join(workDir, 'build') })),
        startAzurite(),
        startTestSimulator({ orgNumber }),
    ]);
    [built, azurite, sim] = [packaged, startedAzurite, startedSim];
    creds = createClientCredentials();
    await sim.control.registerClient(clientRegistration(creds, scopes));
});

afterAll(async () => {
    await host?.stop(10_000);
    await Promise.all([sim?.stop(), azurite?.stop()]);
    await rm(workDir, { recursive: true, force: true });
});

describe('the package as built', () => {
    test('it is built outside the repository: no node_modules above it', () => {
        expect(built.folder.startsWith(repoRoot)).toBe(false);
        const ancestors: string[] = [];
        for (let dir = dirname(built.folder); dir !== dirname(dir); dir = dirname(dir)) ancestors.push(dir);
        expect(ancestors.filter((dir) => existsSync(join(dir, 'node_modules')))).toEqual([]);
    });

    test('the zip holds the package folder exactly, with its files at the root', async () => {
        const entries = await zipEntries(built.zip);
        expect(entries).toEqual(listFiles(built.folder));
        expect(entries.map((entry) => entry.path)).toContain('host.json');
    });

    test('it holds the bundles, the licence notice, host.json, package.json and templates, nothing else', () => {
        const files = listFiles(built.folder);
        const templates = listFiles(join(repoRoot, 'templates')).map((file) => `templates/${file.path}`);
        const bundles = [mainBundle, ...deferredPackages.map(deferredFile)].map((file) => `dist/${file}`);
        expect(files.map((file) => file.path).sort()).toEqual(
            [noticesFileName, ...bundles, 'host.json', 'package.json', ...templates].sort(),
        );
        // So no node_modules, lockfile, .npmrc (nor a registry token in it), source map or TypeScript.
        const megabytes = (bytes: number): string => (bytes / 1e6).toFixed(1);
        console.log(
            `Deployment package: ${files.length} files, ${megabytes(totalBytes(files))} MB; zip ${megabytes(built.zipBytes)} MB; ` +
                `${built.packages.length} third-party packages bundled. Timings (ms): ${JSON.stringify({ ...built.timings, ...timings })}`,
        );
    });

    test('its package.json names the main bundle and holds nothing to install or run', () => {
        const manifest = JSON.parse(readFileSync(join(built.folder, 'package.json'), 'utf8')) as Record<
            string,
            unknown
        >;
        const project = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as Record<string, unknown>;
        expect(manifest).toEqual({
            name: project.name,
            version: project.version,
            description: project.description,
            license: project.license,
            private: true,
            main: packagedMain,
            engines: project.engines,
        });
    });

    test('the bundles load nothing but Node built-ins, the worker-provided module and each other', () => {
        const bundles = listFiles(built.folder).filter((file) => file.path.endsWith('.js'));
        const packaged = new Set(bundles.map((file) => file.path));
        for (const { path } of bundles) {
            const code = readFileSync(join(built.folder, path), 'utf8');
            expect(unavailableModules(code, path, providedModules, packaged)).toEqual([]);
        }
        // What the check above let through is there: the worker's module, and the deferred files.
        const main = moduleLoads(readFileSync(join(built.folder, packagedMain), 'utf8'), packagedMain);
        expect(main.map((load) => load.specifier)).toEqual(
            expect.arrayContaining([...providedModules, ...deferredPackages.map((name) => `./${deferredFile(name)}`)]),
        );
    });

    /**
     * Runs `script` in a fresh node that has loaded the package as the worker does (its main bundle,
     * with the worker's module provided); `load(name)` gives a deferred package's file. Prints JSON.
     */
    async function inLoadedPackage(script: string, env: Record<string, string> = {}): Promise<unknown> {
        const prelude = [
            `require(${JSON.stringify(join(repoRoot, 'dist', 'dev', 'host', 'coreApi.js'))}).installCoreApi();`,
            `const main = require(${JSON.stringify(join(built.folder, packagedMain))});`,
            `const load = (name) => require(require('node:path').join(${JSON.stringify(join(built.folder, 'dist'))}, ${JSON.stringify(deferredFile('NAME'))}.replace('NAME', name.replace('/', '+'))));`,
        ].join('\n');
        const { stdout } = await promisify(execFile)(process.execPath, ['-e', `${prelude}\n${script}`], {
            cwd: built.folder,
            env: { ...process.env, ...env, NODE_PATH: '' },
        });
        return JSON.parse(stdout);
    }

    const requireFromRepo = createRequire(join(repoRoot, 'package.json'));

    test('each deferred file exports every name its package exports, and shares the core modules with the main bundle', async () => {
        const names = Object.fromEntries(
            deferredPackages.map((name) => [
                name,
                Object.getOwnPropertyNames(requireFromRepo(name)).filter((key) => key !== '__esModule'),
            ]),
        );
        const result = (await inLoadedPackage(`
            const names = ${JSON.stringify(names)};
            const missing = Object.entries(names).flatMap(([name, keys]) =>
                keys.filter((key) => load(name)[key] === undefined).map((key) => name + '.' + key));
            const pipeline = Object.entries(main.modulesForDeferred).find(([path]) => path.includes('/core-rest-pipeline/'))[1]();
            console.log(JSON.stringify({
                missing,
                // One RestError class for all: the blob and table SDKs' errors are the core pipeline's.
                oneRestError: load('@azure/storage-blob').RestError === pipeline.RestError &&
                    load('@azure/data-tables').RestError === pipeline.RestError,
            }));`)) as { missing: string[]; oneRestError: boolean };
        expect(result).toEqual({ missing: [], oneRestError: true });
    });

    test('a managed identity token comes through the deferred @azure/identity (App Service identity endpoint, as on Flex)', async () => {
        const requests: { url: string; header: string | undefined }[] = [];
        const endpoint = createServer((request, response) => {
            requests.push({ url: request.url ?? '', header: request.headers['x-identity-header'] as string });
            const expiresOn = Math.floor(Date.now() / 1000) + 3600;
            response.setHeader('content-type', 'application/json');
            response.end(
                JSON.stringify({
                    access_token: 'token-from-identity-endpoint',
                    expires_on: String(expiresOn),
                    resource: 'https://storage.azure.com',
                    token_type: 'Bearer',
                }),
            );
        });
        await new Promise<void>((listening) => endpoint.listen(0, '127.0.0.1', listening));
        try {
            const { port } = endpoint.address() as AddressInfo;
            const result = await inLoadedPackage(
                `new (load('@azure/identity').ManagedIdentityCredential)()
                    .getToken('https://storage.azure.com/.default')
                    .then((token) => console.log(JSON.stringify({ token: token.token })));`,
                { IDENTITY_ENDPOINT: `http://127.0.0.1:${port}/msi/token`, IDENTITY_HEADER: 'identity-header' },
            );
            expect(result).toEqual({ token: 'token-from-identity-endpoint' });
            expect(requests).toEqual([
                {
                    url: expect.stringContaining('resource=https%3A%2F%2Fstorage.azure.com') as string,
                    header: 'identity-header',
                },
            ]);
        } finally {
            endpoint.close();
        }
    });

    /** Every source the source maps name, per bundle, relative to the repository (the bundler's stand-ins left out). */
    function mappedSources(): string[] {
        return listFiles(built.sourceMaps)
            .flatMap(
                (map) =>
                    (JSON.parse(readFileSync(join(built.sourceMaps, map.path), 'utf8')) as { sources: string[] })
                        .sources,
            )
            .filter(isModuleFile);
    }

    test('the bundles hold only index.ts, functions/, shared/ and production dependencies', () => {
        const sources = mappedSources();
        // Not ours: packages (the @azure/functions library's own webpack sources are left out with the stand-ins).
        const own = sources.filter((source) => !source.includes('node_modules/'));
        expect(own).toEqual(expect.arrayContaining(['index.ts', 'functions/eventsReceiver.ts', 'shared/storage.ts']));
        expect(own.filter((source) => !/^(index\.ts|functions\/|shared\/|package\.json main$)/.test(source))).toEqual(
            [],
        );
        const development = developmentFolders(repoRoot);
        expect(development.size).toBeGreaterThan(0);
        const folders = [...new Set(sources.map(packageFolderOf))].filter((folder) => folder !== undefined);
        expect(folders).toEqual(expect.arrayContaining(['node_modules/@azure/storage-blob', 'node_modules/undici']));
        expect(folders.filter((folder) => development.has(folder))).toEqual([]);
    });

    test('the licence notice names every bundled package with the licence files it ships', () => {
        const notice = readFileSync(join(built.folder, noticesFileName), 'utf8');
        const folders = [...new Set(mappedSources().map(packageFolderOf))].filter((folder) => folder !== undefined);
        for (const folder of folders) {
            const { name, version } = JSON.parse(readFileSync(join(repoRoot, folder, 'package.json'), 'utf8')) as {
                name: string;
                version: string;
            };
            expect(notice).toContain(`\n${name} ${version} (licence: `);
            for (const file of readdirSync(join(repoRoot, folder)).filter((f) => /^licen[cs]e/i.test(f))) {
                expect([folder, notice.includes(readFileSync(join(repoRoot, folder, file), 'utf8').trim())]).toEqual([
                    folder,
                    true,
                ]);
            }
        }
    });

    test('a stack trace from the package maps back to source lines through the maps beside the zip', () => {
        /** Where `text` lies in a bundle, as a stack trace would say it (1-based). */
        const position = (bundle: string, text: string): string => {
            const code = readFileSync(join(built.folder, 'dist', bundle), 'utf8');
            const before = code.slice(0, code.indexOf(text)).split('\n');
            return `/home/site/wwwroot/dist/${bundle}:${before.length}:${before[before.length - 1].length + 1}`;
        };
        /** The 1-based line of `text` in a source file of the repository. */
        const line = (source: string, text: string): number =>
            readFileSync(join(repoRoot, source), 'utf8')
                .split('\n')
                .findIndex((l) => l.includes(text)) + 1;
        const ours = 'Cloud Event received and pushed to processing queue';
        const undici = 'UND_ERR_CONNECT_TIMEOUT';
        const trace = [
            'Error: something failed',
            `    at eventsReceiver (${position(mainBundle, ours)})`,
            `    at Agent.connect (${position(deferredFile('undici'), undici)})`,
            '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
        ].join('\n');
        const mapped = mapStackTrace(trace, built.sourceMaps).split('\n');
        expect(mapped[1]).toMatch(
            new RegExp(
                `at eventsReceiver \\(functions/eventsReceiver\\.ts:${line('functions/eventsReceiver.ts', ours)}:\\d+\\)`,
            ),
        );
        expect(mapped[2]).toMatch(
            new RegExp(
                `node_modules/undici/lib/core/errors\\.js:${line('node_modules/undici/lib/core/errors.js', undici)}:\\d+\\)`,
            ),
        );
        expect(mapped[3]).toBe(trace.split('\n')[3]);
    });
});

describe('with only the required settings', () => {
    beforeAll(async () => {
        host = await timed('host start', () =>
            startPackagedHost({
                ...requiredSettingsOnly({
                    AzureWebJobsStorage: azurite.connectionString,
                    ...clientSettings(sim, creds, SERVICEOWNER_SCOPES),
                }),
                ...withModuleProbe,
            }),
        );
    });

    afterAll(() => host.stop(10_000));

    test('the host loads every function the code registers', () => {
        const registered = registeredFunctionNames();
        expect(registered.length).toBeGreaterThan(0);
        expect(loadedFunctionNames(host.output())).toEqual(registered);
    });

    test('a submission goes from the webhook to complete, stored in blob storage', async () => {
        const created = await completedInstance({ publish: true });
        await postEvent(created.events[0]);
        // The first webhook loaded nothing: no deferred file, no Node built-in the code load left to it.
        await waitUntil(() => (existsSync(probeFile) ? true : undefined), 10_000, 'the module probe');
        expect(JSON.parse(readFileSync(probeFile, 'utf8'))).toEqual({ builtins: [], files: [] });
        await completed(created);
        const container = blobs().getContainerClient('inbound');
        expect(await container.getBlobClient(`ttd/${app}/${created.instanceGuid}/instance.json`).exists()).toBe(true);
        expect(sim.counters().completes).toEqual({ [created.id]: 1 });
    });
});

describe('with every feature set, the Maskinporten key as PKCS#12', () => {
    beforeAll(async () => {
        host = await timed('host restart', () =>
            startPackagedHost({
                ...requiredSettingsOnly({
                    AzureWebJobsStorage: azurite.connectionString,
                    ...clientSettings(sim, creds, scopes),
                }),
                MaskinportenKey: pkcs12Base64(creds, [creds.certificatePem]),
                CatchUpApps: `ttd/${app}`,
                CatchUpFrom: testStart.toISOString(),
                BrokerResources: brokerResource,
                FeedbackEventType: taskEvent,
                FeedbackDataType: 'feedback',
                CatchUpSchedule: '0 0 0 1 1 *',
                ReconcileSchedule: '0 0 0 1 1 *',
                SubscriptionsSchedule: '0 0 0 1 1 *',
                AzureFunctionsJobHost__extensions__queues__maxPollingInterval: '00:00:00.500',
            }),
        );
    });

    test('feedback is rendered from the packaged template and uploaded, then the instance is confirmed', async () => {
        const created = await sim.control.createInstance({
            app,
            process: 'Task_2',
            tasks: ['Task_1', 'Task_2'],
            dataTypes: [{ id: 'model', form: true }, { id: 'feedback' }],
            publish: [taskEvent],
            dataElements: [{ dataType: 'model', contentType: 'application/xml', content: '<form/>' }],
        });
        await postEvent(created.events[0]);
        await completed(created);
        const instance = await sim.control.getInstance(created.id);
        const [element] = (instance.data as { id: string; dataType: string }[]).filter(
            (d) => d.dataType === 'feedback',
        );
        const stored = await blobs()
            .getContainerClient('inbound')
            .getBlobClient(`ttd/${app}/${created.instanceGuid}/instance.json`)
            .getProperties();
        const template = readFileSync(join(built.folder, 'templates', 'feedback.xml'), 'utf8');
        const xml = renderFeedback(
            template,
            feedbackValues(parseInstanceSource(created.url, sim.appsUrl), stored.metadata!.storedat),
        );
        expect(xml).toContain(`<instanceId>${created.id}</instanceId>`);
        expect(await sim.control.contentDigest(element.id)).toMatchObject({
            sha256: createHash('sha256').update(xml).digest('hex'),
        });
    });

    test('catch-up queues an event the webhook never got; it is stored and confirmed', async () => {
        const created = await completedInstance({ publish: true, deliver: false });
        await runFunction('EventsCatchUp');
        await completed(created);
    });

    test('reconciliation finds an instance no event announced; it is stored and confirmed', async () => {
        const created = await completedInstance({ publish: false });
        await runFunction('InstancesReconcile');
        await completed(created);
    });

    test('a Broker download cut off midway resumes with a Range request; the file is stored whole and confirmed', async () => {
        const size = 10 * 1024 * 1024;
        const { fileTransferId } = await sim.control.createFileTransfer({
            resourceId: brokerResource,
            fileName: 'stor.bin',
            size,
            seed: 'package-broker',
            recipients: [orgNumber],
            sender: '991825827',
            deliver: false,
        });
        await sim.control.addFault({ endpoint: 'broker.download', truncateAfterBytes: 3 * 1024 * 1024, times: 1 });
        const event = (await sim.control.listEvents()).find(
            (e) => e.resourceinstance === fileTransferId && (e.data as { Role?: string }).Role === 'Recipient',
        );
        await postEvent(event);
        await host.waitForOutput(new RegExp(`step=confirmed [^\\n]*fileTransferId=${fileTransferId}`), 60_000);
        expect(sim.counters().requests['broker.download']).toEqual({ '200': 1, '206': 1 });
        const properties = await blobs()
            .getContainerClient('broker')
            .getBlobClient(`${brokerResource}/${fileTransferId}/stor.bin`)
            .getProperties();
        const digest = await sim.control.contentDigest(fileTransferId);
        expect({ size: properties.contentLength, sha256: properties.metadata?.sha256 }).toEqual({
            size,
            sha256: digest.sha256,
        });
    });

    test('the status page shows what came through, as JSON and as HTML', async () => {
        const json = await fetch(`${host.url}/api/status`);
        expect(json.status).toBe(200);
        const report = (await json.json()) as StatusReport;
        expect(report.unavailable).toEqual([]);
        expect(report.apps).toEqual([expect.objectContaining({ scope: `ttd/${app}`, confirmed: 4 })]);
        expect(report.brokerResources).toEqual([expect.objectContaining({ scope: brokerResource, confirmed: 1 })]);
        expect(report.runs.map((run) => run.kind).sort()).toEqual(['catchup', 'reconciliation']);
        const html = await fetch(`${host.url}/api/status?format=html`);
        expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
        const page = await html.text();
        expect(page).toContain(`ttd/${app}`);
        expect(page).toContain(brokerResource);
    });
});

test('/api/check answers on the packaged app, with the checks that need Altinn run', async () => {
    const response = await fetch(`${host.url}/api/check`);
    expect(response.status).toBe(200);
    const report = (await response.json()) as { checks: { name: string; status: string }[] };
    const status = (name: string) => report.checks.find((check) => check.name === name)?.status;
    expect([status('Settings'), status('Maskinporten grant'), status('Altinn token exchange')]).toEqual([
        'ok',
        'ok',
        'ok',
    ]);
});
