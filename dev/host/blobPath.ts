/**
 * Blob trigger paths such as `add-subscriptions/{name}.json`: a literal container, then a blob
 * name pattern whose `{parameters}` become trigger metadata (`name` above). A path that is only
 * a container matches every blob in it.
 */

export interface BlobPathPattern {
    readonly path: string;
    readonly container: string;
    /** The literal start of the blob name, used as a listing prefix. */
    readonly prefix: string;
    readonly parameterNames: readonly string[];
    readonly regex: RegExp;
}

export function compileBlobPath(path: string): BlobPathPattern {
    const trimmed = path.replace(/^\/+/, '');
    const slash = trimmed.indexOf('/');
    const container = slash < 0 ? trimmed : trimmed.slice(0, slash);
    const blobPattern = slash < 0 ? '' : trimmed.slice(slash + 1);
    if (!/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$/.test(container) && container !== '$root') {
        throw new Error(
            `Blob path '${path}': '${container}' is not a valid container name (no parameters allowed there).`,
        );
    }
    const parameterNames: string[] = [];
    let source = '';
    const pattern = /\{([^{}]+)\}/g;
    let last = 0;
    for (let match = pattern.exec(blobPattern); match; match = pattern.exec(blobPattern)) {
        source += escapeRegex(blobPattern.slice(last, match.index));
        const name = match[1].trim();
        if (parameterNames.includes(name)) throw new Error(`Blob path '${path}': parameter {${name}} appears twice.`);
        parameterNames.push(name);
        source += '(.+)';
        last = match.index + match[0].length;
    }
    source += escapeRegex(blobPattern.slice(last));
    const firstParam = blobPattern.indexOf('{');
    return {
        path,
        container,
        prefix: firstParam < 0 ? blobPattern : blobPattern.slice(0, firstParam),
        parameterNames,
        regex: blobPattern === '' ? /^.+$/s : new RegExp(`^${source}$`, 's'),
    };
}

/** The path parameters for a blob name, or undefined when the blob does not match the pattern. */
export function matchBlobName(pattern: BlobPathPattern, blobName: string): Record<string, string> | undefined {
    const match = pattern.regex.exec(blobName);
    if (!match) return undefined;
    const values: Record<string, string> = {};
    pattern.parameterNames.forEach((name, index) => (values[name] = match[index + 1]));
    return values;
}

function escapeRegex(text: string): string {
    return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
