/**
 * What follows a successful complete, in this order:
 *
 * 1. the hand-off: one message on instances-received for the owner's case systems, built from the
 *    manifest (the caller's, when it has it in memory; otherwise manifest.json is read), once per
 *    version: not when the ledger says this version was handed off already (once.ts), recorded
 *    there when it is. A failure here fails the stage, whose retry repeats complete (idempotent in
 *    Altinn) and the hand-off: at least once, never lost.
 * 2. the substatus, when SubstatusLabel is set. A failure here does not fail the stage: the event
 *    goes to events-substatus, whose function (EventsSubstatus) retries only the substatus, so
 *    neither the download nor complete is repeated. This costs no storage request while the
 *    substatus succeeds, and one enqueue when it does not.
 */
import { RestError, type BlobClient } from '@azure/storage-blob';
import type { Completed, Instance } from '../altinn/apps';
import { errorMessage, logStep, warnStep } from '../log';
import { containers, queues } from '../names';
import { instanceReceived, instanceReceivedWithoutManifest } from '../handoff/instance';
import { handOff, type InstanceReceived } from '../handoff/message';
import { decodeMetadataValue, instanceBlobName } from './layout';
import { manifestBlobName, type Manifest } from './manifest';
import type { InstanceHistory } from './once';
import { handOn, type InstanceEvent, type Pipeline } from './pipeline';
import { InstanceNotStoredError } from './store';
import { setSubstatus } from './substatus';

export interface Confirmed {
    /** The manifest, when the caller has it in memory. */
    manifest?: Manifest;
    /** The version confirmed, when the caller knows it. */
    version?: string;
    /** What complete's answer (or the document) said about the instance, so that a substatus already set is not set again. */
    completed?: Completed;
    /** False when the instance cannot have been handed off before (Altinn showed it unconfirmed): the ledger is not read. */
    mayBeHandedOff: boolean;
}

export async function afterConfirmed(
    pipeline: Pipeline,
    message: InstanceEvent,
    history: InstanceHistory,
    { manifest, version, completed, mayBeHandedOff }: Confirmed,
): Promise<void> {
    const known = mayBeHandedOff ? await history.entry() : undefined;
    if (version !== undefined && known?.handedOffVersion === version) {
        logStep(pipeline.logger, 'handoff-skipped', {
            ...message.fields,
            instanceId: message.ref.instanceId,
            reason: 'this version was handed off before',
            version,
        });
    } else {
        const received = manifest
            ? instanceReceived(message.ref, manifest, version)
            : await readReceived(pipeline, message, version);
        await handOff(pipeline.storage, received, pipeline.logger, message.fields);
        await pipeline.ledger.handedOff(message.subject, received.version ?? undefined);
    }
    if (!pipeline.config.substatus) return;
    try {
        await setSubstatus(pipeline, message, completed);
    } catch (error) {
        warnStep(pipeline.logger, 'substatus-deferred', {
            ...message.fields,
            queue: queues.eventsSubstatus,
            error: errorMessage(error),
        });
        await handOn(pipeline, queues.eventsSubstatus, message);
    }
}

/** The message from manifest.json, or from instance.json for an instance stored before manifests existed. */
async function readReceived(pipeline: Pipeline, message: InstanceEvent, version?: string): Promise<InstanceReceived> {
    const { ref } = message;
    const inbound = pipeline.storage.container(containers.inbound);
    const manifest = await readJson<Manifest>(inbound.getBlobClient(manifestBlobName(ref)));
    if (manifest) return instanceReceived(ref, manifest.value, version);
    const stored = await readJson<Instance>(inbound.getBlobClient(instanceBlobName(ref)));
    if (!stored) throw new InstanceNotStoredError(ref.instanceId, instanceBlobName(ref), 'hand off');
    const storedAt = decodeMetadataValue(stored.metadata.storedat) ?? new Date().toISOString();
    return instanceReceivedWithoutManifest(ref, stored.value, storedAt);
}

async function readJson<T>(blob: BlobClient): Promise<{ value: T; metadata: Record<string, string> } | undefined> {
    try {
        const response = await blob.download();
        const chunks: Buffer[] = [];
        for await (const chunk of response.readableStreamBody ?? []) chunks.push(chunk as Buffer);
        return { value: JSON.parse(Buffer.concat(chunks).toString('utf8')) as T, metadata: response.metadata ?? {} };
    } catch (error) {
        if (error instanceof RestError && error.statusCode === 404) return undefined;
        throw error;
    }
}
