/**
 * The instances-received message of a confirmed instance, built from its manifest (which says,
 * per element, where the bytes are, their SHA-256 and whether they are quarantined).
 */
import type { Instance } from '../altinn/apps';
import { dataBlobName, instanceBlobName } from '../instances/layout';
import { manifestBlobName, type Manifest } from '../instances/manifest';
import type { InstanceRef } from '../instances/source';
import { instanceVersion } from '../instances/version';
import { containers } from '../names';
import type { InstanceReceived } from './message';

type Place = Pick<InstanceRef, 'org' | 'app' | 'instanceGuid'>;

/** `version`: what the caller knows the manifest describes, for a manifest written before manifests carried it. */
export function instanceReceived(ref: Place, manifest: Manifest, version?: string): InstanceReceived {
    return {
        kind: 'instance',
        instanceId: manifest.instanceId,
        org: manifest.org,
        app: manifest.app,
        version: manifest.version ?? version ?? null,
        receivedAt: manifest.storedAt,
        container: containers.inbound,
        instanceBlob: instanceBlobName(ref),
        manifestBlob: manifestBlobName(ref),
        elements: manifest.elements.map((element) => ({
            id: element.id,
            blob: element.blob,
            sha256: element.sha256,
            size: element.size,
            contentType: element.contentType,
            filename: element.filename,
            quarantined: element.quarantined,
        })),
    };
}

/**
 * For an instance stored before manifest.json existed (a message in flight across an upgrade):
 * the elements as instance.json lists them, without hashes, and no manifest blob.
 */
export function instanceReceivedWithoutManifest(
    ref: Place & Pick<InstanceRef, 'instanceId'>,
    instance: Pick<Instance, 'data' | 'process'>,
    storedAt: string,
): InstanceReceived {
    return {
        kind: 'instance',
        instanceId: ref.instanceId,
        org: ref.org,
        app: ref.app,
        version: instanceVersion(instance),
        receivedAt: storedAt,
        container: containers.inbound,
        instanceBlob: instanceBlobName(ref),
        manifestBlob: null,
        elements: (instance.data ?? []).map((element) => ({
            id: element.id,
            blob: dataBlobName(ref, element.id),
            sha256: null,
            size: element.size,
            contentType: element.contentType || 'application/octet-stream',
            filename: element.filename ?? null,
            quarantined: false,
        })),
    };
}
