/**
 * Builds the deployment package, the exact folder and zip that Azure runs:
 *
 *   dist/main.js             every file package.json main names and all they import, Azure SDKs
 *                            included, bundled into one file (bundle.ts); main names it
 *   dist/deferred/*.js       the packages only the Altinn client uses, loaded at first use (deferred.ts)
 *   THIRD-PARTY-NOTICES.txt  the licences of the bundled packages (notices.ts)
 *   host.json, templates/    as in the repository
 *   package.json             main, name, version, engines: nothing to install (manifest.ts)
 *
 * No node_modules, lockfile or .npmrc: nothing is installed in Azure. The source maps are written
 * beside the zip (`sourcemaps/main.js.map`, ...), not into the package: they are read only to turn
 * a stack trace from Azure back into source lines (`npm run stacktrace`), so they stay out of the
 * package Flex mounts. Nothing is listed by hand: the entry points come from package.json main,
 * the rest from what they import.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { bundleApp, entrySource, isModuleFile, mainBundle, nodeTarget, providedModules } from './bundle';
import { entryPointSources } from './entryPoints';
import { listFiles, totalBytes, type PackageFile } from './files';
import { unavailableModules } from './imports';
import { packagedManifest, type ProjectManifest } from './manifest';
import { developmentFolders, packageFolderOf } from './lockfile';
import { bundledPackages, noticesFileName, renderNotices, type BundledPackage } from './notices';
import { zipFolder } from './zip';

export interface PackageOptions {
    /** The repository root (package.json, host.json, the sources, node_modules). */
    root: string;
    /** Where the package folder (`app/`), its zip (`app.zip`) and the source map go; default `<root>/.package`. */
    outDir?: string;
    /** Progress lines; default none. */
    log?: (line: string) => void;
}

export interface BuiltPackage {
    /** The package folder: what the zip holds, at its root. */
    folder: string;
    zip: string;
    /** The bundles' source maps, beside the zip (not in the package): `<bundle path under dist/>.map`. */
    sourceMaps: string;
    files: PackageFile[];
    bytes: number;
    zipBytes: number;
    /** The third-party packages in the bundle. */
    packages: BundledPackage[];
    /** How long each step took, in ms. */
    timings: { bundle: number; zip: number };
}

/** Files and folders of the repository root that the package holds as they are. */
export const packagedAssets = ['host.json', 'templates'];
/** The bundles' folder in the package. */
const compiledDir = 'dist';
/** The main bundle's path in the package: package.json main. */
export const packagedMain = `${compiledDir}/${mainBundle}`;
/** The source maps' folder in the out dir, beside the package folder and zip. */
export const sourceMapsFolderName = 'sourcemaps';
/** The only source folders (and root files) the bundle may hold of this repository: anything else is dev code. */
const productionSources = /^(functions|shared)\/|^index\.ts$/;

export const defaultOutDir = '.package';
/** The package folder inside the out dir; azure.yaml's `dist` is `.package/app`. */
export const packageFolderName = 'app';

export async function buildPackage(options: PackageOptions): Promise<BuiltPackage> {
    const root = resolve(options.root);
    const outDir = resolve(options.outDir ?? join(root, defaultOutDir));
    const folder = join(outDir, packageFolderName);
    const zip = join(outDir, `${packageFolderName}.zip`);
    const sourceMaps = join(outDir, sourceMapsFolderName);
    const log = options.log ?? (() => undefined);
    await Promise.all([folder, zip, sourceMaps].map((path) => rm(path, { recursive: true, force: true })));

    const project = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as ProjectManifest;
    const { main, sources } = entryPointSources(root);
    log(`Bundling ${sources.length} entry points (package.json main "${main}") into ${packagedMain}`);
    const started = Date.now();
    const development = developmentFolders(root);
    const bundles = await bundleApp({ root, sources, target: nodeTarget(project.engines), notInstalled: development });
    // The modules that went in (not the plugins' stand-ins, `deferred:undici`, `from-main:...`).
    const inputs = bundles.flatMap((bundle) => bundle.inputs).filter(isModuleFile);
    checkOnlyProductionCode(inputs);
    checkNoDevelopmentPackages(inputs, development);
    const bundled = new Set(bundles.map((bundle) => `${compiledDir}/${bundle.path}`));
    const missing = bundles.flatMap((bundle) =>
        unavailableModules(bundle.code, `${compiledDir}/${bundle.path}`, providedModules, bundled),
    );
    if (missing.length > 0) throw new Error(`The package would not load in Azure:\n  ${missing.join('\n  ')}`);
    const packages = bundledPackages(root, inputs);
    const timings = { bundle: Date.now() - started, zip: 0 };

    for (const bundle of bundles) {
        writeCreating(join(folder, compiledDir, bundle.path), bundle.code);
        writeCreating(join(sourceMaps, `${bundle.path}.map`), bundle.map);
    }
    writeFileSync(join(folder, noticesFileName), renderNotices([...bundled].join(', '), packages));
    writeFileSync(
        join(folder, 'package.json'),
        `${JSON.stringify(packagedManifest(project, packagedMain), null, 4)}\n`,
    );
    for (const asset of packagedAssets) {
        if (!existsSync(join(root, asset))) throw new Error(`${asset} is missing from ${root}; the package needs it.`);
        cpSync(join(root, asset), join(folder, asset), { recursive: true });
    }

    const files = listFiles(folder);
    log(`Zipping ${files.length} files into ${zip}; source maps in ${sourceMaps}`);
    const zipStarted = Date.now();
    await zipFolder(folder, files, zip);
    timings.zip = Date.now() - zipStarted;
    return {
        folder,
        zip,
        sourceMaps,
        files,
        bytes: totalBytes(files),
        zipBytes: statSync(zip).size,
        packages,
        timings,
    };
}

function writeCreating(path: string, text: string): void {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
}

/** Stops packaging when the functions import this repository's development code (dev/, test/, bench/, tools/). */
function checkOnlyProductionCode(inputs: readonly string[]): void {
    // Stand-ins made by the bundler's plugins are listed as `<namespace>:<name>`.
    const own = inputs.filter(
        (input) => !input.includes('node_modules/') && input !== entrySource && !/^[a-z-]+:/.test(input),
    );
    const unexpected = own.filter((input) => !productionSources.test(input));
    if (unexpected.length > 0) {
        throw new Error(
            `The functions import development code (${unexpected.join(', ')}); only index.ts, functions/ and shared/ may be deployed.`,
        );
    }
}

/** Stops packaging when the bundle holds a package the lockfile installs for development only. */
function checkNoDevelopmentPackages(inputs: readonly string[], development: ReadonlySet<string>): void {
    const bundled = [...new Set(inputs.map(packageFolderOf))].filter((folder) => folder !== undefined);
    const developmentOnly = bundled.filter((folder) => development.has(folder));
    if (developmentOnly.length > 0) {
        throw new Error(
            `The functions import development dependencies (${developmentOnly.join(', ')}); make them dependencies or stop importing them.`,
        );
    }
}
