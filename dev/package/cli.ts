#!/usr/bin/env node
/**
 * `npm run package [-- --out <dir>]`: builds the deployment package (dev/package/build.ts) into
 * <dir>/app and <dir>/app.zip (default .package/), the artifact that azd and the manual route in
 * docs/deploy.md deploy, with the bundles' source maps beside them (<dir>/sourcemaps/), and prints its size.
 */
import { resolve } from 'node:path';
import { buildPackage, defaultOutDir } from './build';

const usage = 'Usage: npm run package [-- --out <dir>]';

function outDir(args: readonly string[]): string {
    if (args.length === 0) return defaultOutDir;
    if (args.length === 2 && args[0] === '--out') return args[1];
    throw new Error(`Unknown arguments '${args.join(' ')}'. ${usage}`);
}

async function main(): Promise<void> {
    const root = resolve(__dirname, '..', '..', '..');
    const built = await buildPackage({
        root,
        outDir: resolve(outDir(process.argv.slice(2))),
        log: (line) => process.stdout.write(`${line}\n`),
    });
    const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
    process.stdout.write(
        `Package: ${built.folder} (${built.files.length} files, ${mb(built.bytes)}; ${built.packages.length} third-party packages bundled); ` +
            `zip: ${built.zip} (${mb(built.zipBytes)}); source maps: ${built.sourceMaps}; ` +
            `bundle ${built.timings.bundle} ms, zip ${built.timings.zip} ms\n`,
    );
}

main().catch((error: unknown) => {
    process.stderr.write(`Packaging failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
});
