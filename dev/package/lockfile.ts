/**
 * What package-lock.json says about the installed packages: which folders under node_modules only a
 * development install has (`"dev": true`). `npm ci --omit=dev` would not install them, so the
 * package must not contain them either.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The package folder of a path under node_modules (the innermost, for nested installs), relative as in the lockfile. */
export function packageFolderOf(path: string): string | undefined {
    return /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)(?:\/|$)/.exec(path)?.[1];
}

/** Folders like `node_modules/supports-color` that only the development install holds. */
export function developmentFolders(root: string): Set<string> {
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
        packages: Record<string, { dev?: boolean }>;
    };
    return new Set(
        Object.entries(lock.packages)
            .filter(([folder, entry]) => folder !== '' && entry.dev === true)
            .map(([folder]) => folder),
    );
}
