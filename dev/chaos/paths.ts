import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository root (where package.json is), from the sources (ts-jest) as from dist/. */
function findRepoRoot(from: string): string {
    for (let dir = from; ; dir = dirname(dir)) {
        if (existsSync(join(dir, 'package.json'))) return dir;
        if (dirname(dir) === dir) throw new Error(`No package.json above ${from}`);
    }
}

export const repoRoot = findRepoRoot(__dirname);
export const hostCli = join(repoRoot, 'dist', 'dev', 'host', 'cli.js');
