/**
 * One data element's entry in manifest.json: where its bytes are and what they hash to. The
 * element is quarantined when Altinn's malware scan found it Infected; its bytes are then in
 * container `quarantine` at the same relative path, never in `inbound`.
 */
import type { DataElement } from '../altinn/apps';
import { blobContentType, dataBlobName } from './layout';
import type { ManifestElement } from './manifest';
import type { InstanceRef } from './source';
import type { DataPlace } from './store';

/** Altinn's FileScanResult values (altinn-storage src/Storage.Interface/Enums/FileScanResult.cs). */
export const fileScanResults = {
    notApplicable: 'NotApplicable',
    pending: 'Pending',
    clean: 'Clean',
    infected: 'Infected',
};

/** Where an element's bytes belong, by Altinn's scan result. */
export function placeOf(element: DataElement): DataPlace {
    return element.fileScanResult === fileScanResults.infected ? 'quarantine' : 'inbound';
}

export function manifestEntry(
    ref: InstanceRef,
    element: DataElement,
    stored: { size: number; sha256: string },
): ManifestElement {
    return {
        id: element.id,
        dataType: element.dataType,
        blob: dataBlobName(ref, element.id),
        size: stored.size,
        sha256: stored.sha256,
        contentType: blobContentType(element.contentType),
        filename: element.filename ?? null,
        ...(typeof element.fileScanResult === 'string' ? { fileScanResult: element.fileScanResult } : {}),
        quarantined: placeOf(element) === 'quarantine',
    };
}
