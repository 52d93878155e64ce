/**
 * The blob layout of stored instances (pinned in DESIGN.md), container `inbound`:
 *
 *   {org}/{app}/{instanceGuid}/data/{dataElementId}   each data element (Altinn's blobStoragePath)
 *   {org}/{app}/{instanceGuid}/manifest.json          what was stored, with hashes (manifest.ts)
 *   {org}/{app}/{instanceGuid}/instance.json          the instance document, written last
 *
 * An element Altinn scanned as Infected goes to container `quarantine` instead, at the same path.
 *
 * and the HTTP headers and metadata that go with them. Blob metadata must be ASCII, so every
 * text value that may hold other characters is stored URI-encoded (encodeURIComponent; read it
 * back with decodeURIComponent). Metadata names are lower case, as Azure returns them in headers.
 */
import { containers } from '../names';
import type { InstanceRef } from './source';

export const instanceContainer = containers.inbound;

export function instanceFolder(ref: Pick<InstanceRef, 'org' | 'app' | 'instanceGuid'>): string {
    return `${ref.org}/${ref.app}/${ref.instanceGuid}`;
}

export function dataBlobName(ref: Pick<InstanceRef, 'org' | 'app' | 'instanceGuid'>, dataElementId: string): string {
    return `${instanceFolder(ref)}/data/${dataElementId.toLowerCase()}`;
}

export function instanceBlobName(ref: Pick<InstanceRef, 'org' | 'app' | 'instanceGuid'>): string {
    return `${instanceFolder(ref)}/instance.json`;
}

/** Metadata of a data blob. */
export interface DataBlobMetadata {
    /** The element's dataType, URI-encoded. */
    datatype: string;
    /** The element's filename, URI-encoded; absent when the element has none. */
    filename?: string;
    /** Lowercase hex SHA-256 of the blob's bytes, computed while they streamed in. */
    sha256?: string;
    /**
     * The element's lastChanged (URI-encoded ISO time): which version of the element the bytes
     * are. A retry keeps a blob with the element's lastChanged, size and SHA-256 instead of
     * downloading it again, and no write puts an older version over it.
     */
    lastchanged?: string;
    [name: string]: string | undefined;
}

/**
 * Metadata of instance.json. manifest.json carries `lastchanged` and `version` too: both are
 * written only over an older lastChanged (store.ts writeDescribing).
 */
export interface InstanceBlobMetadata {
    /** The instance's lastChanged when it was stored (URI-encoded ISO time); never moves backwards. */
    lastchanged?: string;
    /** The version stored (version.ts), as in manifest.json. */
    version?: string;
    /** The id of the event that stored it (URI-encoded). */
    eventid: string;
    /** When this system stored it (ISO time). */
    storedat: string;
    /** Number of data elements and their total bytes. */
    elements: string;
    bytes: string;
    [name: string]: string | undefined;
}

export function encodeMetadataValue(value: string): string {
    return encodeURIComponent(value);
}

export function decodeMetadataValue(value: string | undefined): string | undefined {
    if (value === undefined) return undefined;
    try {
        return decodeURIComponent(value);
    } catch {
        return value;
    }
}

/** Control characters would break (or inject) a header; nothing legitimate needs them in a file name. */
function withoutControls(text: string): string {
    // eslint-disable-next-line no-control-regex
    return text.replace(/[\u0000-\u001f\u007f]/g, '_');
}

/**
 * Content-Disposition for a file name (RFC 6266): `attachment; filename="…"`, plus
 * `filename*=UTF-8''…` (RFC 8187) when the name is not plain ASCII, with an ASCII fallback in
 * `filename`. Undefined when there is no name.
 */
export function contentDisposition(filename: string | null | undefined): string | undefined {
    if (!filename) return undefined;
    const clean = withoutControls(filename);
    const ascii = clean.replace(/[^\x20-\x7e]/g, '_');
    const quoted = `"${ascii.replace(/["\\]/g, (c) => `\\${c}`)}"`;
    if (ascii === clean) return `attachment; filename=${quoted}`;
    const encoded = encodeURIComponent(clean).replace(
        /['()*]/g,
        (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
    );
    return `attachment; filename=${quoted}; filename*=UTF-8''${encoded}`;
}

/** The element's content type, safe for a header; application/octet-stream when it has none. */
export function blobContentType(contentType: string | null | undefined): string {
    const clean = contentType ? withoutControls(contentType).trim() : '';
    return clean || 'application/octet-stream';
}
