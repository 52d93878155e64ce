/**
 * The unbundled build, as the deployment package held it before issue 22: the compiled entry points
 * and shared/ of `npm run build` (dist/), host.json, templates/, package.json with its lockfile and
 * .npmrc, and node_modules from `npm ci --omit=dev` in the folder itself. bench/coldStart.ts starts
 * it beside the bundled package, so that both load their modules from their own folder only.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const parts = [
    'dist/index.js',
    'dist/functions',
    'dist/shared',
    'host.json',
    'templates',
    'package.json',
    'package-lock.json',
    '.npmrc',
];

export async function buildUnbundledApp(root: string, folder: string): Promise<void> {
    mkdirSync(folder, { recursive: true });
    for (const part of parts) {
        if (!existsSync(join(root, part))) throw new Error(`${part} is missing: run npm run build first`);
        // Source maps stay behind, as they did: Node reads them only with --enable-source-maps.
        cpSync(join(root, part), join(folder, part), { recursive: true, filter: (path) => !path.endsWith('.map') });
    }
    await promisify(execFile)(
        'npm',
        ['ci', '--omit=dev', '--ignore-scripts', '--no-bin-links', '--no-audit', '--no-fund', '--prefer-offline'],
        // npm is npm.cmd on Windows, which only a shell runs.
        { cwd: folder, shell: process.platform === 'win32' },
    );
}
