/**
 * Turns a stack trace from Azure back into source lines: each `.../dist/<file>.js:<line>:<column>`
 * of the deployment package is looked up in that file's source map, which `npm run package` keeps
 * beside the zip (`.package/sourcemaps/<file>.js.map`) instead of shipping it. Lines of other files,
 * and positions a map does not cover, are left as they are.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { join } from 'node:path';

/** `/home/site/wwwroot/dist/main.js:1:2345`, `dist/deferred/undici.js:1:99`: the file under dist/, line, column. */
const packageFrame = /(?:[^\s()]*\/)?dist\/((?:[\w.+-]+\/)*[\w.+-]+\.js):(\d+):(\d+)/g;

export function mapStackTrace(trace: string, sourceMaps: string): string {
    const maps = new Map<string, SourceMap | undefined>();
    const mapOf = (file: string): SourceMap | undefined => {
        if (!maps.has(file)) {
            const path = join(sourceMaps, `${file}.map`);
            maps.set(
                file,
                existsSync(path) ? new SourceMap(JSON.parse(readFileSync(path, 'utf8')) as never) : undefined,
            );
        }
        return maps.get(file);
    };
    return trace.replace(packageFrame, (frame, file: string, line: string, column: string) => {
        // Stack traces count from 1; the map from 0.
        const entry = mapOf(file)?.findEntry(Number(line) - 1, Number(column) - 1);
        if (!entry || !('originalSource' in entry)) return frame;
        return `${entry.originalSource}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
    });
}
