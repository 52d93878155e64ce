/**
 * Packages that only the Altinn client needs (HTTP, token signing, PKCS#12), which no function
 * needs to register and the webhook never uses, and which are large: undici alone is a third of
 * the code. Each is bundled into a file of its own (dist/deferred/<name>.js), and the main bundle
 * gets a stand-in whose exports load that file at first use, as Node would have loaded the
 * package when first required. So the worker neither compiles nor runs them at start; the first
 * function that calls Altinn loads them once.
 *
 * A deferred package must share no module with the main bundle, or two copies would exist (two
 * classes of the same name, two caches): build.ts checks that. Its imports must also be free of
 * side effects that something relies on before first use; these three have none.
 */
import type { Plugin } from 'esbuild';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export const deferredPackages = ['undici', 'node-forge', 'jose'];

/** Where a deferred package's bundle lies, relative to dist/ (and so to the main bundle). */
export function deferredFile(name: string): string {
    return `deferred/${name.replace('/', '+')}.js`;
}

const namespace = 'deferred';

/**
 * Our code's imports of a deferred package resolve to a stand-in with the package's export names,
 * each a getter that requires the package's own bundle on first access. Other packages' imports
 * are left alone (build.ts refuses the bundle if one pulls a deferred package in).
 */
export function deferToOwnFiles(root: string): Plugin {
    const filter = new RegExp(
        `^(${deferredPackages.map((name) => name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})$`,
    );
    const requireFromRoot = createRequire(join(root, 'package.json'));
    return {
        name: 'defer-to-own-files',
        setup(build) {
            build.onResolve({ filter }, (args) =>
                args.importer.includes('node_modules') ? undefined : { path: args.path, namespace },
            );
            build.onResolve({ filter: /^\.\/deferred\// }, (args) =>
                args.namespace === namespace ? { path: args.path, external: true } : undefined,
            );
            build.onLoad({ filter: /.*/, namespace }, (args) => {
                // The export names as Node's require gives them, which is also what the deferred bundle exports.
                const exported = requireFromRoot(args.path) as Record<string, unknown>;
                const names = Object.getOwnPropertyNames(exported).filter((name) => name !== '__esModule');
                return {
                    loader: 'js',
                    resolveDir: root,
                    contents: [
                        'let loaded;',
                        `const load = () => (loaded ??= require(${JSON.stringify(`./${deferredFile(args.path)}`)}));`,
                        exported.__esModule ? 'Object.defineProperty(exports, "__esModule", { value: true });' : '',
                        `for (const name of ${JSON.stringify(names)}) {`,
                        '    Object.defineProperty(exports, name, { enumerable: true, get: () => load()[name] });',
                        '}',
                    ].join('\n'),
                };
            });
        },
    };
}
