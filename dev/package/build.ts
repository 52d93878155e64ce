/**
 * Builds the deployment package, the exact folder and zip that Azure runs: the compiled entry
 * points of package.json main and what they import (tsconfig.package.json), host.json,
 * package.json with its lockfile and .npmrc, templates/, and the production dependencies that
 * `npm ci --omit=dev` installs in the package folder itself. Nothing else is copied, so there is
 * no list of files to keep in step with the code.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { listFiles, totalBytes, type PackageFile } from './files';
import { undeclaredImports } from './imports';
import { zipFolder } from './zip';

export interface PackageOptions {
    /** The repository root (package.json, host.json, the sources). */
    root: string;
    /** Where the package folder (`app/`) and zip (`app.zip`) go; default `<root>/.package`. */
    outDir?: string;
    /** Progress lines; default none. */
    log?: (line: string) => void;
}

export interface BuiltPackage {
    /** The package folder: what the zip holds, at its root. */
    folder: string;
    zip: string;
    files: PackageFile[];
    bytes: number;
    zipBytes: number;
    /** How long each step took, in ms. */
    timings: { compile: number; install: number; zip: number };
}

/** Files and folders of the repository root that the package holds besides the compiled code. */
export const packagedAssets = ['host.json', 'package.json', 'package-lock.json', '.npmrc', 'templates'];
/** The compiled code's folder: package.json main points into it. */
const compiledDir = 'dist';
/** The only top-level folders the compiled entry points may pull in: anything else is dev code. */
const productionSourceDirs = ['functions', 'shared'];

export const defaultOutDir = '.package';
/** The package folder inside the out dir; azure.yaml's `dist` is `.package/app`. */
export const packageFolderName = 'app';

export async function buildPackage(options: PackageOptions): Promise<BuiltPackage> {
    const root = resolve(options.root);
    const outDir = resolve(options.outDir ?? join(root, defaultOutDir));
    const folder = join(outDir, packageFolderName);
    const zip = join(outDir, `${packageFolderName}.zip`);
    const log = options.log ?? (() => undefined);
    await rm(folder, { recursive: true, force: true });
    await rm(zip, { force: true });
    mkdirSync(folder, { recursive: true });

    log(`Compiling the entry points (tsconfig.package.json) into ${folder}`);
    const compile = await timed(() => compileEntryPoints(root, folder));
    copyAssets(root, folder);
    checkImports(folder);

    log('Installing the production dependencies (npm ci --omit=dev)');
    // No install scripts (none of the production dependencies needs one) and no bin links (CLI
    // shims are symlinks, which a zip does not carry and the functions never call).
    const install = await timed(() =>
        run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-bin-links', '--no-audit', '--no-fund'], folder),
    );

    const files = listFiles(folder);
    log(`Zipping ${files.length} files into ${zip}`);
    const zipped = await timed(() => zipFolder(folder, files, zip));
    return {
        folder,
        zip,
        files,
        bytes: totalBytes(files),
        zipBytes: statSync(zip).size,
        timings: { compile, install, zip: zipped },
    };
}

async function compileEntryPoints(root: string, folder: string): Promise<void> {
    const tsc = require.resolve('typescript/bin/tsc');
    const outDir = join(folder, compiledDir);
    await run(process.execPath, [tsc, '-p', join(root, 'tsconfig.package.json'), '--outDir', outDir], root);
    checkOnlyProductionCode(folder);
}

function copyAssets(root: string, folder: string): void {
    for (const asset of packagedAssets) {
        if (!existsSync(join(root, asset))) throw new Error(`${asset} is missing from ${root}; the package needs it.`);
        cpSync(join(root, asset), join(folder, asset), { recursive: true });
    }
}

/** Stops packaging when the compiled code imports a package that Azure will not have. */
function checkImports(folder: string): void {
    const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as {
        dependencies?: Record<string, string>;
    };
    const problems = undeclaredImports(
        folder,
        listFiles(folder).map((file) => file.path),
        Object.keys(manifest.dependencies ?? {}),
    );
    if (problems.length > 0) throw new Error(`The package would not load in Azure:\n  ${problems.join('\n  ')}`);
}

async function timed(work: () => Promise<void>): Promise<number> {
    const started = Date.now();
    await work();
    return Date.now() - started;
}

function checkOnlyProductionCode(folder: string): void {
    const compiled = join(folder, compiledDir);
    const unexpected = readdirSync(compiled, { withFileTypes: true })
        .filter((entry) => entry.isDirectory() && !productionSourceDirs.includes(entry.name))
        .map((entry) => `${compiledDir}/${entry.name}/`);
    if (unexpected.length > 0) {
        throw new Error(
            `The functions import development code (${unexpected.join(', ')}); only ${productionSourceDirs.join('/ and ')}/ may be deployed.`,
        );
    }
}

/** Runs a command to completion; on failure the error carries its output. */
function run(command: string, args: readonly string[], cwd: string): Promise<void> {
    return new Promise((resolveRun, reject) => {
        // npm is npm.cmd on Windows, which only a shell runs.
        const child = spawn(command, args, {
            cwd,
            shell: process.platform === 'win32',
            stdio: ['ignore', 'pipe', 'pipe'],
        });
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.on('error', reject);
        child.on('close', (code) => {
            if (code === 0) resolveRun();
            else reject(new Error(`${[command, ...args].join(' ')} (in ${cwd}) exited with ${code}:\n${output}`));
        });
    });
}
