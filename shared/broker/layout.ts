/**
 * Where Broker files go (pinned in DESIGN.md): container `broker`,
 * `{resourceId}/{fileTransferId}/{fileName}` and, written last, `{resourceId}/{fileTransferId}/filetransfer.json`.
 */
export const OVERVIEW_BLOB_NAME = 'filetransfer.json';

/** Blob metadata on filetransfer.json once Broker accepted confirmdownload (ISO time). */
export const CONFIRMED_METADATA = 'confirmed';

/** Blob metadata on the file once complete: its SHA-256, lowercase hex (pinned in DESIGN.md). */
export const SHA256_METADATA = 'sha256';

/** Blob metadata on the file while it is still being downloaded ("true"); absent once complete. */
export const PARTIAL_METADATA = 'partial';

const FALLBACK_NAME = 'file';
const MAX_NAME_CHARS = 200;

/**
 * The sender's file name made safe as the last segment of a blob name, keeping it recognisable:
 * - only the part after the last `/` or `\` is kept (no folders, no `..` climbing);
 * - control characters (C0, DEL, C1) are dropped; other Unicode (æøå, emoji, CJK) is kept as is;
 * - leading and trailing spaces and trailing dots are trimmed (Azure advises against names ending in `.`);
 * - `.`, `..` and an empty result become `file`;
 * - at most 200 characters (code points), keeping the extension;
 * - `filetransfer.json` (the overview's name) becomes `_filetransfer.json`, so a file can never pass for the overview.
 */
export function sanitiseFileName(fileName: string): string {
    const base = fileName.split(/[/\\]/).pop() ?? '';
    // eslint-disable-next-line no-control-regex
    let name = base.replace(/[\u0000-\u001f\u007f-\u009f]/g, '').trim();
    name = name.replace(/[.\s]+$/, '');
    if (name === '' || /^\.+$/.test(name)) return FALLBACK_NAME;
    const chars = [...name];
    if (chars.length > MAX_NAME_CHARS) {
        const dot = name.lastIndexOf('.');
        const extension = dot > 0 ? [...name.slice(dot)] : [];
        const keep = extension.length > 0 && extension.length <= 16 ? extension : [];
        name = chars.slice(0, MAX_NAME_CHARS - keep.length).join('') + keep.join('');
    }
    return name === OVERVIEW_BLOB_NAME ? `_${name}` : name;
}

export function fileBlobName(resourceId: string, fileTransferId: string, fileName: string): string {
    return `${resourceId}/${fileTransferId}/${sanitiseFileName(fileName)}`;
}

export function overviewBlobName(resourceId: string, fileTransferId: string): string {
    return `${resourceId}/${fileTransferId}/${OVERVIEW_BLOB_NAME}`;
}

/** Content-Disposition with an ASCII fallback and the exact name as RFC 5987 filename*. */
export function contentDisposition(fileName: string): string {
    const ascii = fileName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
    const star = encodeURIComponent(fileName).replace(
        /['()*]/g,
        (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
    );
    return `attachment; filename="${ascii}"; filename*=UTF-8''${star}`;
}

/** Blob metadata values must be ASCII: free text (file names, references) is stored percent-encoded. */
export function metadataText(value: string): string {
    return encodeURIComponent(value);
}
