/**
 * manifest.json: what was stored of one instance, beside instance.json and written just before it
 * (instance.json stays the last write, so its presence still means the whole instance is stored).
 *
 *   {org}/{app}/{instanceGuid}/manifest.json
 *
 * One entry per data element: where its bytes are, how many, their SHA-256 (computed while the
 * element streamed into its blob, also stored as the blob's `sha256` metadata), and whether Altinn's
 * malware scan found it infected, in which case the bytes are in container `quarantine` at the
 * same relative path and never in `inbound`. The hand-off message to case systems
 * (queue instances-received) is built from this document.
 */
import type { InstanceRef } from './source';
import { instanceFolder } from './layout';

export interface ManifestElement {
    /** The data element id, as Altinn gives it. */
    id: string;
    dataType: string;
    /** The blob name (relative path) of the element's bytes, in `inbound`, or in `quarantine` when quarantined. */
    blob: string;
    size: number;
    /** Lowercase hex SHA-256 of the stored bytes. */
    sha256: string;
    contentType: string;
    filename: string | null;
    /** Altinn's fileScanResult for the element when it has one (NotApplicable, Pending, Clean, Infected). */
    fileScanResult?: string;
    /** True when Altinn scanned the element as Infected: its bytes are in container `quarantine`. */
    quarantined: boolean;
}

export interface Manifest {
    instanceId: string;
    org: string;
    app: string;
    /** When this system stored the instance (ISO time). */
    storedAt: string;
    /** The instance's lastChanged as stored. */
    lastChanged: string | null;
    /**
     * The version this manifest describes (version.ts): the SHA-256 of the process's end and each
     * element's id, lastChanged and size. The hand-off message and the ledger carry it. Absent in
     * manifests written before versions were.
     */
    version?: string;
    elements: ManifestElement[];
}

export function manifestBlobName(ref: Pick<InstanceRef, 'org' | 'app' | 'instanceGuid'>): string {
    return `${instanceFolder(ref)}/manifest.json`;
}
