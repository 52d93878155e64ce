/**
 * Packages that no function needs to register and the webhook never uses, and which are large:
 * the Altinn client's HTTP, token signing and PKCS#12 (undici, jose, node-forge); the Key Vault
 * client the signing key comes from; the blob and table clients the queue-triggered stages use;
 * and @azure/identity with MSAL, which only a managed-identity connection or Key Vault needs.
 * Each is bundled into a file of its own (dist/deferred/<name>.js), and the main bundle gets a
 * stand-in whose exports load that file at first use, as Node would have loaded the package when
 * first required. So the worker neither compiles nor runs them at start; the first function that
 * uses one loads it once (issue 22).
 *
 * No module may exist twice: two copies would be two states and two of each class. The Azure
 * SDKs share their core packages (@azure/core-rest-pipeline, -auth, -util, logger, ...) with the
 * queue client, which the webhook needs and so stays in the main bundle. A deferred file
 * therefore takes every module the main bundle holds from the main bundle at run time, through
 * `modulesForDeferred`, a table of those modules that main.js exports; a module that two deferred
 * files would both hold (@azure/core-lro) moves into the main bundle and is shared the same way.
 * bundle.ts builds in that order and checks that no module file is in two bundle files.
 */
import type { Plugin } from 'esbuild';
import { createRequire } from 'node:module';
import { join, relative, sep } from 'node:path';

export const deferredPackages = [
    'undici',
    'node-forge',
    'jose',
    '@azure/identity',
    '@azure/keyvault-secrets',
    '@azure/storage-blob',
    '@azure/data-tables',
];

/** Where a deferred package's bundle lies, relative to dist/ (and so to the main bundle). */
export function deferredFile(name: string): string {
    return `deferred/${name.replace('/', '+')}.js`;
}

/** A deferred file's entry: the package as our code imports it (its ESM build where it has one, like the main bundle's). */
export function deferredEntry(name: string): string {
    return `export * from ${JSON.stringify(name)};`;
}

/** The main bundle's export through which deferred files reach the modules they share with it. */
export const sharedExport = 'modulesForDeferred';

/** Paths of modules relative to the repository root, as esbuild's metafile lists its inputs. */
export type ModulePaths = ReadonlySet<string>;

const standInNamespace = 'deferred';
const sharedNamespace = 'from-main';
/** Marks the plugin's own resolve calls, so that it does not see them again. */
const ownResolve = 'take-from-main';

/**
 * Our code's imports of a deferred package resolve to a stand-in with the package's export names,
 * each a getter that requires the package's own bundle on first access. Other packages' imports
 * are left alone (bundle.ts refuses a bundle that holds a module twice).
 */
export function deferToOwnFiles(root: string): Plugin {
    const filter = new RegExp(
        `^(${deferredPackages.map((name) => name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})$`,
    );
    const requireFromRoot = createRequire(join(root, 'package.json'));
    return {
        name: 'defer-to-own-files',
        setup(build) {
            build.onResolve({ filter }, (args) =>
                args.importer.includes('node_modules') ? undefined : { path: args.path, namespace: standInNamespace },
            );
            build.onResolve({ filter: /^\.\/deferred\// }, (args) =>
                args.namespace === standInNamespace ? { path: args.path, external: true } : undefined,
            );
            build.onLoad({ filter: /.*/, namespace: standInNamespace }, (args) => {
                // The export names as Node's require gives them; the deferred file exports the same names.
                const exported = requireFromRoot(args.path) as Record<string, unknown>;
                const names = Object.getOwnPropertyNames(exported).filter((name) => name !== '__esModule');
                return {
                    loader: 'js',
                    resolveDir: root,
                    contents: [
                        'let loaded;',
                        `const load = () => (loaded ??= require(${JSON.stringify(`./${deferredFile(args.path)}`)}));`,
                        exported.__esModule ? 'Object.defineProperty(exports, "__esModule", { value: true });' : '',
                        `for (const name of ${JSON.stringify(names)}) {`,
                        '    Object.defineProperty(exports, name, { enumerable: true, get: () => load()[name] });',
                        '}',
                    ].join('\n'),
                };
            });
        },
    };
}

/**
 * In a deferred file's build: an import that resolves to a module in `fromMain` becomes a stand-in
 * that takes the main bundle's instance of it (`require("../main.js").modulesForDeferred[path]()`),
 * and its path is added to `taken`. Everything else is bundled into the deferred file.
 */
export function takeFromMain(root: string, mainBundle: string, fromMain: ModulePaths, taken: Set<string>): Plugin {
    return {
        name: 'take-from-main',
        setup(build) {
            build.onResolve({ filter: /.*/, namespace: sharedNamespace }, (args) => ({
                path: args.path,
                external: true,
            }));
            build.onResolve({ filter: /.*/ }, async (args) => {
                if (args.pluginData === ownResolve || args.kind === 'entry-point' || args.namespace !== 'file') {
                    return undefined;
                }
                const resolved = await build.resolve(args.path, {
                    kind: args.kind,
                    importer: args.importer,
                    resolveDir: args.resolveDir,
                    pluginData: ownResolve,
                });
                if (resolved.errors.length > 0 || resolved.external || resolved.namespace !== 'file') return undefined;
                const path = modulePath(root, resolved.path);
                if (!fromMain.has(path)) return undefined;
                taken.add(path);
                return { path, namespace: sharedNamespace };
            });
            build.onLoad({ filter: /.*/, namespace: sharedNamespace }, (args) => ({
                loader: 'js',
                contents: `module.exports = require(${JSON.stringify(`../${mainBundle}`)}).${sharedExport}[${JSON.stringify(args.path)}]();`,
            }));
        },
    };
}

/**
 * The lines the main bundle's entry gains so that deferred files can reach `modules`: a table from
 * each module's path to a function returning it as `require` would (bundle.ts appends them).
 */
export function sharedModulesExport(root: string, modules: ModulePaths): string {
    const entries = [...modules]
        .sort()
        .map((path) => `    ${JSON.stringify(path)}: () => require(${JSON.stringify(join(root, path))}),`);
    return [`export const ${sharedExport} = {`, ...entries, '};'].join('\n');
}

/** A module's path as the metafile names it: relative to the root, with forward slashes. */
export function modulePath(root: string, absolute: string): string {
    return relative(root, absolute).split(sep).join('/');
}
