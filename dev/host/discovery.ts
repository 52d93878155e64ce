/**
 * Finds and loads the app's entry points the way the Node worker does (startApp.ts in
 * Azure/azure-functions-nodejs-worker): package.json `main` is a file or a glob such as
 * `dist/{index.js,functions/*.js}`, and every matching file is required in order. The functions
 * are whatever those files register; nothing else is loaded.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { globSync } from 'tinyglobby';
import { HostStartupError, errorMessage } from './log';

export interface EntryPoints {
    readonly main: string;
    /** Paths relative to the app root, in load order. */
    readonly files: readonly string[];
}

export function findEntryPoints(appRoot: string): EntryPoints {
    const packageFile = join(appRoot, 'package.json');
    if (!existsSync(packageFile)) {
        throw new HostStartupError(`No package.json in the app root ${appRoot}; pass --app <dir> of a function app.`);
    }
    let main: unknown;
    try {
        main = (JSON.parse(readFileSync(packageFile, 'utf8')) as { main?: unknown }).main;
    } catch (error) {
        throw new HostStartupError(`${packageFile} is not valid JSON: ${errorMessage(error)}`);
    }
    if (typeof main !== 'string' || main.trim() === '') {
        throw new HostStartupError(`${packageFile} has no "main": it must name the entry point file or glob.`);
    }
    // Load order matters (index.js first calls app.setup and registers hooks): like globby in the
    // worker, files come in the order of the pattern's alternatives, sorted within each.
    const files: string[] = [];
    for (const pattern of expandBraces(main)) {
        const matches = globSync(pattern, { cwd: appRoot, onlyFiles: true, expandDirectories: false }).sort();
        for (const file of matches) if (!files.includes(file)) files.push(file);
    }
    if (files.length === 0) {
        throw new HostStartupError(
            `package.json "main" ("${main}") matches no files in ${appRoot}. Build the app first (npm run build)?`,
        );
    }
    return { main, files };
}

/** Requires each entry point; a failing file stops start-up naming the file (the real worker only warns). */
export function loadEntryPoints(appRoot: string, entryPoints: EntryPoints): void {
    for (const file of entryPoints.files) {
        const path = resolve(appRoot, file);
        try {
            // Loading the app's files is the point: they register their functions as a side effect.
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            require(path);
        } catch (error) {
            if (error instanceof HostStartupError) throw error;
            const detail = error instanceof Error && error.stack ? error.stack : errorMessage(error);
            throw new HostStartupError(`Loading entry point "${file}" failed: ${detail}`);
        }
    }
}

/** `dist/{index.js,functions/*.js}` -> [`dist/index.js`, `dist/functions/*.js`], in order; nests. */
export function expandBraces(pattern: string): string[] {
    let depth = 0;
    let open = -1;
    const commas: number[] = [];
    for (let index = 0; index < pattern.length; index++) {
        const char = pattern[index];
        if (char === '{') {
            if (depth === 0) open = index;
            depth++;
        } else if (char === '}' && depth > 0) {
            depth--;
            if (depth === 0 && commas.length > 0) {
                const before = pattern.slice(0, open);
                const after = pattern.slice(index + 1);
                const bounds = [open, ...commas, index];
                const alternatives = bounds.slice(0, -1).map((start, i) => pattern.slice(start + 1, bounds[i + 1]));
                return alternatives.flatMap((alternative) => expandBraces(`${before}${alternative}${after}`));
            }
            if (depth === 0) commas.length = 0;
        } else if (char === ',' && depth === 1) {
            commas.push(index);
        }
    }
    return [pattern];
}
