/**
 * Zips a folder with its files at the zip's root, the layout that `az functionapp deployment
 * source config-zip` and Flex Consumption's one deploy expect (host.json at the root).
 */
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ZipFile } from 'yazl';
import { type PackageFile } from './files';

export async function zipFolder(folder: string, files: readonly PackageFile[], zipPath: string): Promise<void> {
    const zip = new ZipFile();
    // Entries are streamed from disk one after another, so memory does not grow with the package.
    for (const file of files) zip.addFile(join(folder, file.path), file.path);
    zip.end();
    await pipeline(zip.outputStream, createWriteStream(zipPath));
}
