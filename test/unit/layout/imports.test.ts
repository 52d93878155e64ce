/**
 * The arrows between the top-level folders: what ships (index.ts, functions/, shared/) and the
 * operator's tools (tools/) never import development code (dev/), and what ships never imports the
 * tools. Read from the sources' own import statements, so a new import across a line fails here.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const repoRoot = path.resolve(__dirname, '..', '..', '..');

function sources(folder: string): string[] {
    return readdirSync(path.join(repoRoot, folder), { withFileTypes: true, recursive: true })
        .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
        .map((entry) => path.relative(repoRoot, path.join(entry.parentPath, entry.name)));
}

/** The repo-relative top-level folder each relative import of the file lands in. */
function importedFolders(file: string): { specifier: string; folder: string }[] {
    const info = ts.preProcessFile(readFileSync(path.join(repoRoot, file), 'utf8'), true, true);
    return info.importedFiles
        .map((imported) => imported.fileName)
        .filter((specifier) => specifier.startsWith('.'))
        .map((specifier) => {
            const target = path.relative(repoRoot, path.resolve(path.dirname(path.join(repoRoot, file)), specifier));
            return { specifier, folder: target.split(path.sep)[0] };
        });
}

function crossings(folders: string[], forbidden: string[]): string[] {
    return folders
        .flatMap((folder) => (folder.endsWith('.ts') ? [folder] : sources(folder)))
        .flatMap((file) =>
            importedFolders(file)
                .filter(({ folder }) => forbidden.includes(folder))
                .map(({ specifier }) => `${file} imports ${specifier}`),
        );
}

it('the operator tools read nothing from dev/: what they share with the local host lives in shared/', () => {
    expect(crossings(['tools'], ['dev'])).toEqual([]);
});

it('what ships imports neither dev/ nor tools/', () => {
    expect(crossings(['index.ts', 'functions', 'shared'], ['dev', 'tools'])).toEqual([]);
});

it('finds such an import where there is one', () => {
    // The local host does read shared/ (its settings): the check sees relative imports across folders.
    expect(crossings(['dev/host'], ['shared'])).toContain('dev/host/host.ts imports ../../shared/localSettings');
});
