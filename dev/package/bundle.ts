/**
 * Bundles the entry points and everything they import, Azure SDKs included, into CommonJS files
 * with esbuild: the Functions Node worker then reads and compiles one file at start instead of
 * resolving and reading some 900 modules (issue 22). One main file, not one per entry point: the
 * entry points share @azure/functions, whose app.setup() state and registrations must be one copy.
 * The large packages that neither registration nor the webhook needs get files of their own,
 * loaded at first use, which take the modules they share with the main bundle from it (deferred.ts).
 *
 * `@azure/functions-core` stays a `require`: the worker provides it by wrapping
 * Module.prototype.require (setupCoreModule.ts in Azure/azure-functions-nodejs-worker; see
 * Azure/azure-functions-nodejs-library#201). Any esbuild warning stops packaging, so that nothing
 * it could not follow (a computed require, a missing file) reaches Azure silently.
 */
import { build, formatMessages, type BuildOptions, type Plugin } from 'esbuild';
import { join, relative, sep } from 'node:path';
import {
    deferredEntry,
    deferredFile,
    deferredPackages,
    deferToOwnFiles,
    sharedModulesExport,
    takeFromMain,
    type ModulePaths,
} from './deferred';
import { packageFolderOf } from './lockfile';

/** Modules the worker provides at run time; everything else must be in the bundle or built into Node. */
export const providedModules = ['@azure/functions-core'];

/** The main bundle, relative to the package's dist/; package.json main names it. */
export const mainBundle = 'main.js';

/** The name the generated entry (one import per entry point) has in the metafile and the map. */
export const entrySource = 'package.json main';

/** The plugin namespace (and metafile prefix) of a stand-in for a package a production install lacks. */
const absent = 'not-installed';

export interface BundleOptions {
    /** The repository root: sources, node_modules, tsconfig.build.json. */
    root: string;
    /** Entry point sources relative to the root, in load order (entryPoints.ts). */
    sources: readonly string[];
    /** esbuild target, e.g. `node20.18.1`. */
    target: string;
    /** Package folders (`node_modules/x`) that a production install does not have (lockfile.ts). */
    notInstalled: ReadonlySet<string>;
}

export interface BundleFile {
    /** Relative to dist/: `main.js`, `deferred/undici.js`. */
    path: string;
    code: string;
    /** Its source map, sources relative to the repository root (`functions/x.ts`, `node_modules/...`). */
    map: string;
    /** What went in, relative to the root (esbuild's metafile inputs). */
    inputs: string[];
}

export async function bundleApp(options: BundleOptions): Promise<BundleFile[]> {
    const { root } = options;
    // Side-effect imports, in order: esbuild evaluates them in this order, as the worker requires the files.
    const entry = options.sources.map((source) => `import ${JSON.stringify(`./${source}`)};`).join('\n');
    const buildMain = (shared: ModulePaths): Promise<BundleFile> =>
        bundle(options, mainBundle, shared.size > 0 ? `${entry}\n${sharedModulesExport(root, shared)}` : entry, [
            deferToOwnFiles(root),
        ]);
    // What the main bundle holds, then the deferred files taking those modules from it. A module two
    // deferred files would both hold goes into the main bundle instead, and the deferred files are
    // built again; the Azure SDKs settle in two rounds.
    let fromMain = new Set((await buildMain(new Set())).inputs);
    for (let round = 1; ; round++) {
        const taken = new Set<string>();
        const deferred = await Promise.all(
            deferredPackages.map((name) =>
                bundle(options, deferredFile(name), deferredEntry(name), [
                    takeFromMain(root, mainBundle, fromMain, taken),
                ]),
            ),
        );
        const inSeveral = modulesInSeveral(deferred);
        if (inSeveral.size === 0) {
            const main = await buildMain(taken);
            checkNothingTwice(main, deferred, taken);
            return [main, ...deferred];
        }
        if (round === 3) throw new Error(`Deferred files keep sharing modules: ${[...inSeveral].join(', ')}`);
        fromMain = new Set([...fromMain, ...inSeveral]);
    }
}

async function bundle(options: BundleOptions, path: string, entry: string, plugins: Plugin[]): Promise<BundleFile> {
    const { root } = options;
    const settings = {
        stdin: { contents: entry, resolveDir: root, sourcefile: entrySource, loader: 'ts' },
        absWorkingDir: root,
        tsconfig: join(root, 'tsconfig.build.json'),
        bundle: true,
        platform: 'node',
        format: 'cjs',
        target: options.target,
        external: providedModules,
        // Not written: the caller puts the files where they belong. A nominal path at the root keeps the
        // map's source paths relative to the repository, whatever folder the package is built in.
        write: false,
        outfile: join(root, path.split('/').join('-')),
        // No sourceMappingURL comment: nothing loads the map at run time (build.ts says where it goes).
        sourcemap: 'external',
        sourcesContent: false,
        // Whitespace and syntax only: identifiers keep their names, so stack traces read without the map.
        // (Renaming them too made the file smaller but slower to load in the benchmark.)
        minifyWhitespace: true,
        minifySyntax: true,
        // The licences are in the notice file (notices.ts), with each package's full licence text.
        legalComments: 'none',
        // Some SDKs' ESM builds read import.meta.url (@azure/storage-common's crc64 wasm glue, via
        // createRequire); in a CommonJS bundle it is the bundle's own URL.
        define: { 'import.meta.url': 'importMetaUrl' },
        banner: { js: 'var importMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
        metafile: true,
        logLevel: 'silent',
        plugins: [...plugins, absentAsInProduction(root, options.notInstalled)],
    } satisfies BuildOptions;
    const result = await build(settings);
    if (result.warnings.length > 0) {
        const text = await formatMessages(result.warnings, { kind: 'warning' });
        throw new Error(`esbuild warned while bundling ${path}; fix or explain each:\n${text.join('\n')}`);
    }
    const output = (suffix: string): string => {
        const file = result.outputFiles.find((candidate) => candidate.path === `${settings.outfile}${suffix}`);
        if (!file) throw new Error(`esbuild wrote no ${path}${suffix}`);
        return file.text;
    };
    return { path, code: output(''), map: output('.map'), inputs: Object.keys(result.metafile.inputs) };
}

/** Module files (not stand-ins) that more than one of `files` holds. */
function modulesInSeveral(files: readonly BundleFile[]): Set<string> {
    const seen = new Set<string>();
    const several = new Set<string>();
    for (const file of files) {
        for (const input of file.inputs.filter(isModuleFile)) (seen.has(input) ? several : seen).add(input);
    }
    return several;
}

/**
 * A module file in two bundle files would be two copies: two module states, two of each class. And
 * every module a deferred file takes from the main bundle must be in it.
 */
function checkNothingTwice(main: BundleFile, deferred: readonly BundleFile[], taken: ModulePaths): void {
    const problems: string[] = [];
    const holder = new Map<string, string>();
    for (const file of [main, ...deferred]) {
        for (const input of file.inputs.filter(isModuleFile)) {
            const other = holder.get(input);
            if (other) problems.push(`${input} is in both ${other} and ${file.path}`);
            else holder.set(input, file.path);
        }
    }
    const mainInputs = new Set(main.inputs);
    for (const path of taken) {
        if (!mainInputs.has(path)) problems.push(`${path} is taken from ${main.path}, which does not hold it`);
    }
    if (problems.length > 0) {
        throw new Error(`The bundle files would not share their modules (deferred.ts):\n  ${problems.join('\n  ')}`);
    }
}

/** A file of the repository or node_modules, not a plugin's stand-in (`deferred:undici`) or the entry. */
export function isModuleFile(input: string): boolean {
    return input !== entrySource && !/^[a-z-]+:/.test(input);
}

/**
 * A third-party package's require of a package that only the development install has (`debug`'s
 * optional `require('supports-color')`, inside a try) fails as it would in a production install:
 * with MODULE_NOT_FOUND, which the package handles. Our own code importing one is left for build.ts
 * to refuse.
 */
function absentAsInProduction(root: string, notInstalled: ReadonlySet<string>): Plugin {
    return {
        name: 'absent-as-in-production',
        setup(build) {
            build.onResolve({ filter: /^[^./]/ }, async (args) => {
                if (args.pluginData === absent || !args.importer.includes(`node_modules${sep}`)) return undefined;
                const resolved = await build.resolve(args.path, {
                    kind: args.kind,
                    importer: args.importer,
                    resolveDir: args.resolveDir,
                    pluginData: absent,
                });
                const folder = resolved.path && packageFolderOf(relative(root, resolved.path).split(sep).join('/'));
                return folder && notInstalled.has(folder) ? { path: args.path, namespace: absent } : undefined;
            });
            build.onLoad({ filter: /.*/, namespace: absent }, (args) => ({
                contents: `throw Object.assign(new Error(${JSON.stringify(`Cannot find module '${args.path}'`)}), { code: 'MODULE_NOT_FOUND' });`,
                loader: 'js',
            }));
        },
    };
}

/** `node20.18.1` from package.json engines `>=20.18.1`: the bundle's syntax is what the oldest supported Node runs. */
export function nodeTarget(engines: Record<string, string> | undefined): string {
    const version = /^\s*>=\s*(\d+(?:\.\d+){0,2})\s*$/.exec(engines?.node ?? '')?.[1];
    if (!version) throw new Error(`package.json engines.node must be ">=<version>" to choose the bundle's target`);
    return `node${version}`;
}
