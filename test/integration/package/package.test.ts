import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import yauzl from 'yauzl';
import { buildPackage, type BuiltPackage } from '../../../dev/package/build';
import { listFiles, totalBytes, type PackageFile } from '../../../dev/package/files';
import { type Simulator } from '../../../dev/simulator/simulator';
import { requiredSettingNames, settingNames, settings, type SettingName } from '../../../shared/settings';
import { startAzurite, type AzuriteInstance } from '../../support/azurite';
import { repoRoot, startHostProcess, type HostProcess } from '../../support/host';
import {
    clientRegistration,
    clientSettings,
    createClientCredentials,
    SERVICEOWNER_SCOPES,
    startTestSimulator,
    waitUntil,
} from '../../support/simulator';

/*
 * The deployment package as Azure runs it: `npm run package`'s builder makes the folder and zip
 * in an empty folder outside the repository (no parent node_modules can help), the zip is checked
 * to hold exactly that folder, and the local Functions host runs the folder with only the
 * required app settings.
 * Every function the code registers must load, and one submission must go from the webhook to
 * `complete`. Needs `npm run build` first (for the host; npm test does).
 */

jest.setTimeout(300_000);

const workDir = mkdtempSync(join(tmpdir(), 'aos-package-'));
let built: BuiltPackage;
let azurite: AzuriteInstance;
let sim: Simulator;
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

beforeAll(async () => {
    const [packaged, startedAzurite, startedSim] = await Promise.all([
        timed('package', () => buildPackage({ root: repoRoot, outDir: join(workDir, 'build') })),
        startAzurite(),
        startTestSimulator(),
    ]);
    [built, azurite, sim] = [packaged, startedAzurite, startedSim];

    const creds = createClientCredentials();
    await sim.control.registerClient(clientRegistration(creds, SERVICEOWNER_SCOPES));
    host = await timed('host start', () =>
        startHostProcess({
            appRoot: built.folder,
            env: {
                ...requiredSettingsOnly({
                    AzureWebJobsStorage: azurite.connectionString,
                    ...clientSettings(sim, creds, SERVICEOWNER_SCOPES),
                }),
                // Module resolution from the package's files only: its own node_modules.
                NODE_PATH: undefined,
            },
            startTimeoutMs: 60_000,
        }),
    );
});

afterAll(async () => {
    await host?.stop(10_000);
    await Promise.all([sim?.stop(), azurite?.stop()]);
    await rm(workDir, { recursive: true, force: true });
});

test('the package runs outside the repository: no node_modules above it', () => {
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

test('the package holds the compiled functions, their templates and production dependencies, nothing else', () => {
    const files = listFiles(built.folder);
    const paths = files.map((file) => file.path);
    const own = paths.filter((path) => !path.startsWith('node_modules/'));
    const topLevel = [...new Set(paths.map((path) => path.split('/')[0]))].sort();
    expect(topLevel).toEqual([
        '.npmrc',
        'dist',
        'host.json',
        'node_modules',
        'package-lock.json',
        'package.json',
        'templates',
    ]);
    const compiled = [...new Set(own.filter((path) => path.startsWith('dist/')).map((path) => path.split('/')[1]))];
    expect(compiled.sort()).toEqual(['functions', 'index.js', 'shared']);
    // Compiled fresh: one file per function source, nothing left over from an earlier build.
    const functionSources = readdirSync(join(repoRoot, 'functions')).filter((file) => file.endsWith('.ts'));
    expect(own.filter((path) => path.startsWith('dist/functions/'))).toEqual(
        functionSources.map((file) => `dist/functions/${file.replace(/\.ts$/, '.js')}`).sort(),
    );
    // No TypeScript source, no source map of our code, nothing of dev/, test/, bench/ or tools/.
    expect(own.filter((path) => /\.(ts|map)$/.test(path))).toEqual([]);
    expect(own.filter((path) => /^(dist\/)?(dev|test|bench|tools)\//.test(path))).toEqual([]);
    // azd zips the folder leaving out local.settings.json, .funcignore and .azure: the package has none, so
    // what azd deploys is this folder as it is.
    expect(paths.filter((path) => /(^|\/)(local\.settings\.json|\.funcignore|\.azure\/)/.test(path))).toEqual([]);

    // Every production dependency is installed, and no package the lockfile marks development-only.
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
        dependencies: Record<string, string>;
    };
    const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as {
        packages: Record<string, { dev?: boolean }>;
    };
    for (const name of Object.keys(manifest.dependencies)) {
        expect([name, existsSync(join(built.folder, 'node_modules', name, 'package.json'))]).toEqual([name, true]);
    }
    const devOnly = Object.entries(lock.packages)
        .filter(([path, entry]) => path !== '' && entry.dev === true)
        .map(([path]) => path);
    expect(devOnly.length).toBeGreaterThan(0);
    expect(devOnly.filter((path) => existsSync(join(built.folder, path)))).toEqual([]);

    const megabytes = (bytes: number): string => (bytes / 1e6).toFixed(1);
    console.log(
        `Deployment package: ${files.length} files, ${megabytes(totalBytes(files))} MB ` +
            `(node_modules ${files.filter((f) => f.path.startsWith('node_modules/')).length} files; ` +
            `own code and assets ${own.length} files, ${megabytes(totalBytes(files.filter((f) => !f.path.startsWith('node_modules/'))))} MB); ` +
            `zip ${megabytes(built.zipBytes)} MB. Timings (ms): ${JSON.stringify({ ...built.timings, ...timings })}`,
    );
});

test('the built-in feedback template is found inside the package (FeedbackTemplatePath unset)', () => {
    const feedback = join(built.folder, 'dist', 'shared', 'instances', 'feedback.js');
    const script = `process.stdout.write(require(${JSON.stringify(feedback)}).defaultTemplatePath())`;
    const result = spawnSync(process.execPath, ['-e', script], { cwd: built.folder, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(join(built.folder, 'templates', 'feedback.xml'));
});

test('with only the required settings, the host loads every function the code registers', () => {
    const registered = registeredFunctionNames();
    expect(registered.length).toBeGreaterThan(0);
    expect(loadedFunctionNames(host.output())).toEqual(registered);
});

test('a submission goes from the webhook to complete, stored in blob storage', async () => {
    const created = await sim.control.createInstance({
        app: 'package-app',
        process: 'completed',
        publish: true,
        dataElements: [{ dataType: 'model', content: '<form/>' }],
    });
    const response = await fetch(`${host.url}/api/eventsreceiver`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify(created.events[0]),
    });
    expect(response.status).toBe(200);
    await waitUntil(() => (sim.counters().completes[created.id] ? true : undefined), 60_000, 'complete');
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('inbound');
    expect(await container.getBlobClient(`ttd/package-app/${created.instanceGuid}/instance.json`).exists()).toBe(true);
    expect(sim.counters().completes).toEqual({ [created.id]: 1 });
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
