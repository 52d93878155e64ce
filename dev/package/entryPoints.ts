/**
 * The TypeScript sources of the files package.json `main` names, in the order the Functions Node
 * worker loads them. `main` names compiled files (`dist/{index.js,functions/*.js}`); each is built
 * from the source at the same path under the compiler's rootDir (tsconfig.build.json: rootDir `.`,
 * outDir `dist`), so the pattern is matched against the sources. A new function file is picked up
 * without a list to keep in step. The order is the local host's (dev/host/discovery.ts, after the
 * worker's startApp.ts): the pattern's alternatives in order, sorted within each, so index first.
 */
import { readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { globSync } from 'tinyglobby';
import ts from 'typescript';
import { expandBraces } from '../host/discovery';

/** The compilation that builds what package.json `main` names. */
const buildConfig = 'tsconfig.build.json';

export interface EntryPointSources {
    /** package.json `main` as written, e.g. `dist/{index.js,functions/*.js}`. */
    readonly main: string;
    /** Source files relative to the root, with '/' separators, in load order. */
    readonly sources: readonly string[];
}

export function entryPointSources(root: string): EntryPointSources {
    const main = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { main?: unknown }).main;
    if (typeof main !== 'string' || main.trim() === '') throw new Error('package.json has no "main" to bundle');
    const { outDir, rootDir, fileNames } = compilerLayout(root);
    const sources: string[] = [];
    for (const pattern of expandBraces(main)) {
        const compiled = relative(outDir, resolve(root, pattern)).split(sep).join('/');
        if (compiled.startsWith('..') || !compiled.endsWith('.js')) {
            throw new Error(
                `package.json main names "${pattern}", which is not a .js file the build (${buildConfig}) writes to ${relative(root, outDir)}/`,
            );
        }
        const sourcePattern = compiled.replace(/\.js$/, '.ts');
        const matches = globSync(sourcePattern, { cwd: rootDir, onlyFiles: true, expandDirectories: false })
            .filter((file) => !file.endsWith('.d.ts') && fileNames.has(resolve(rootDir, file)))
            .sort();
        if (matches.length === 0) {
            throw new Error(`package.json main names "${pattern}", but no source matches ${sourcePattern}`);
        }
        for (const file of matches) {
            const source = relative(root, resolve(rootDir, file)).split(sep).join('/');
            if (!sources.includes(source)) sources.push(source);
        }
    }
    return { main, sources };
}

function compilerLayout(root: string): { outDir: string; rootDir: string; fileNames: Set<string> } {
    const configFile = join(root, buildConfig);
    const parsed = ts.getParsedCommandLineOfConfigFile(
        configFile,
        {},
        {
            ...ts.sys,
            onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
                throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
            },
        },
    );
    const { outDir, rootDir } = parsed?.options ?? {};
    if (!parsed || !outDir || !rootDir) throw new Error(`${buildConfig} must set outDir and rootDir`);
    return { outDir, rootDir, fileNames: new Set(parsed.fileNames.map((file) => resolve(file))) };
}
