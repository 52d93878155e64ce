/**
 * The files of a folder, as the package's zip and its summary see them: every regular file
 * below it, with forward-slash paths relative to it, sorted.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

export interface PackageFile {
    /** Relative to the folder, with '/' separators (as in the zip). */
    readonly path: string;
    readonly bytes: number;
}

export function listFiles(folder: string): PackageFile[] {
    const files: PackageFile[] = [];
    for (const entry of readdirSync(folder, { recursive: true, withFileTypes: true })) {
        if (entry.isDirectory()) continue;
        const absolute = join(entry.parentPath, entry.name);
        const path = relative(folder, absolute).split(sep).join('/');
        // A symlink would be stored as a file or lost, depending on the zip tool: refuse it.
        if (!entry.isFile()) throw new Error(`${path} in ${folder} is not a regular file (a symlink?)`);
        files.push({ path, bytes: lstatSync(absolute).size });
    }
    return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export function totalBytes(files: readonly PackageFile[]): number {
    return files.reduce((sum, file) => sum + file.bytes, 0);
}
