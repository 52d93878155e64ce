/**
 * The third-party notice shipped with the bundle: every package whose code esbuild put into it
 * (from the metafile's inputs, so exactly those), with its name, version, declared licence and the
 * licence and notice files it ships, verbatim. The bundle drops the packages' own files, so this is
 * where their copyright and permission notices travel on.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { packageFolderOf } from './lockfile';

export interface BundledPackage {
    name: string;
    version: string;
    /** package.json `license` (or the old `licenses` list), as declared. */
    license: string;
    /** The package folder relative to the root, e.g. `node_modules/@azure/storage-blob`. */
    folder: string;
    /** LICENSE, LICENCE, COPYING and NOTICE files of the package folder, by file name. */
    files: { name: string; text: string }[];
}

export const noticesFileName = 'THIRD-PARTY-NOTICES.txt';

const licenceFile = /^(licen[cs]e|copying|notice)([-._].*)?$/i;

export function bundledPackages(root: string, inputs: readonly string[]): BundledPackage[] {
    const folders = [...new Set(inputs.map(packageFolderOf).filter((folder) => folder !== undefined))];
    return folders
        .map((folder) => {
            const manifest = JSON.parse(readFileSync(join(root, folder, 'package.json'), 'utf8')) as {
                name: string;
                version: string;
                license?: string | { type?: string };
                licenses?: { type?: string }[];
            };
            const files = readdirSync(join(root, folder))
                .filter((name) => licenceFile.test(name) && statSync(join(root, folder, name)).isFile())
                .sort()
                .map((name) => ({ name, text: readFileSync(join(root, folder, name), 'utf8').trim() }));
            return { name: manifest.name, version: manifest.version, license: declared(manifest), folder, files };
        })
        .sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
}

function declared(manifest: { license?: string | { type?: string }; licenses?: { type?: string }[] }): string {
    if (typeof manifest.license === 'string') return manifest.license;
    if (manifest.license?.type) return manifest.license.type;
    const listed = (manifest.licenses ?? []).map((entry) => entry.type).filter(Boolean);
    return listed.length > 0 ? listed.join(' OR ') : 'not declared';
}

export function renderNotices(bundle: string, packages: readonly BundledPackage[]): string {
    const rule = '='.repeat(80);
    const sections = packages.map((pkg) =>
        [
            rule,
            `${pkg.name} ${pkg.version} (licence: ${pkg.license})`,
            rule,
            ...(pkg.files.length > 0
                ? pkg.files.flatMap((file) => [`--- ${file.name} ---`, file.text, ''])
                : [`The package ships no licence file; its package.json declares ${pkg.license}.`, '']),
        ].join('\n'),
    );
    return [
        `Third-party software in ${bundle}`,
        '',
        `${bundle} holds the code of the ${packages.length} packages below, bundled by esbuild. Each is listed`,
        'with its version, its declared licence and the licence and notice files it ships, as it ships them.',
        '',
        ...sections,
    ].join('\n');
}
