/**
 * What the compiled package code imports from outside itself: every bare specifier of every
 * emitted file must be a Node built-in or a production dependency, because only those are
 * installed beside it in Azure. TypeScript's own pre-processor finds require(), import and
 * import() calls.
 */
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import ts from 'typescript';

/** `@azure/storage-blob/x` -> `@azure/storage-blob`, `undici/y` -> `undici`. */
export function packageNameOf(specifier: string): string {
    const parts = specifier.split('/');
    return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function isBuiltin(specifier: string): boolean {
    return specifier.startsWith('node:') || builtinModules.includes(packageNameOf(specifier));
}

/**
 * Problems, one per import of something that will not be there in Azure: a devDependency or a
 * package that is not a dependency at all. `files` are relative to `folder`.
 */
export function undeclaredImports(folder: string, files: readonly string[], dependencies: readonly string[]): string[] {
    const problems: string[] = [];
    for (const file of files.filter((path) => path.endsWith('.js'))) {
        const { importedFiles } = ts.preProcessFile(readFileSync(join(folder, file), 'utf8'), true, true);
        for (const { fileName: specifier } of importedFiles) {
            if (specifier.startsWith('.') || isBuiltin(specifier)) continue;
            const name = packageNameOf(specifier);
            if (dependencies.includes(name)) continue;
            problems.push(`${file} imports '${specifier}', which is not a production dependency in package.json`);
        }
    }
    return problems;
}
