/**
 * The hand-off to the owner's case systems: after an instance is confirmed (complete) or a Broker
 * file is confirmed (confirmdownload), one JSON message on queue `instances-received` says what
 * arrived and where its bytes are, so that a case system, a Logic App or a Function takes it from
 * there without polling Blob Storage. The contract is docs/instances-received.schema.json.
 *
 * Delivery is at least once, and once per version where nothing races: an instance is handed off
 * once for each version of it that is stored (the ledger remembers the version its last message
 * described, shared/instances/once.ts). A lost ledger write, or two processors confirming the same
 * version at the same moment, sends the same message again, with the same id (instanceId or
 * fileTransferId), version and receivedAt, so a consumer recognises repeats by id and version.
 *
 * The messages never expire (time-to-live -1): with Azure Queue Storage's default of 7 days, a case
 * system connected late, or down for a week, would lose hand-offs without a trace. HandoffWatch
 * (watch.ts) reports how long the oldest has waited instead.
 */
import { errorStep, logStep, type LogFields, type StepLogger } from '../log';
import { queues } from '../names';
import { maxQueuedTextBytes, type Storage } from '../storage';

export interface ReceivedElement {
    /** The data element id, or for a Broker file its fileTransferId. */
    id: string;
    /** Blob name in `container`, or in container `quarantine` (same relative path) when quarantined. */
    blob: string;
    /** Lowercase hex SHA-256 of the stored bytes; null only for what was stored before hashes were computed. */
    sha256: string | null;
    size: number;
    contentType: string;
    filename: string | null;
    quarantined: boolean;
}

interface ReceivedCommon {
    /** When this system stored the submission (ISO time); the same on every repeat. */
    receivedAt: string;
    /** The container that holds instanceBlob, manifestBlob and every element that is not quarantined. */
    container: string;
    /** The document that describes the submission: instance.json, or filetransfer.json for a Broker file. */
    instanceBlob: string;
    /** manifest.json of an instance; null for a Broker file (its one element is listed here). */
    manifestBlob: string | null;
    /** Null when the list would not fit in one queue message: read manifestBlob instead. */
    elements: ReceivedElement[] | null;
}

export interface InstanceReceived extends ReceivedCommon {
    kind: 'instance';
    /** `{partyId}/{instanceGuid}`, as Altinn writes instance ids. */
    instanceId: string;
    org: string;
    app: string;
    /**
     * The version of the instance the message describes (manifest.json's `version`); with
     * instanceId the key a consumer deduplicates by. Null for an instance stored before versions.
     */
    version: string | null;
}

export interface BrokerFileReceived extends ReceivedCommon {
    kind: 'brokerFile';
    fileTransferId: string;
    /** The sender as Broker names it (e.g. 0192:991825827); null when the overview has none. */
    org: string | null;
    resourceId: string;
}

export type ReceivedMessage = InstanceReceived | BrokerFileReceived;

export const receivedQueue = queues.instancesReceived;

/**
 * The message as queue text. A list of elements too long for one queue message (64 KiB base64,
 * around 150 elements) is left out (null) rather than cut: the consumer reads manifestBlob, and
 * nothing is silently missing.
 */
export function receivedText(message: ReceivedMessage, logger: StepLogger, fields: LogFields): string {
    const text = JSON.stringify(message);
    if (Buffer.byteLength(text) <= maxQueuedTextBytes) return text;
    errorStep(logger, 'handoff-elements-omitted', {
        ...fields,
        elements: message.elements?.length,
        reason: 'the element list does not fit in a queue message; the consumer reads manifestBlob',
    });
    return JSON.stringify({ ...message, elements: null });
}

/** Puts the message on instances-received (base64, like every queue here), creating the queue locally. */
export async function handOff(
    storage: Storage,
    message: ReceivedMessage,
    logger: StepLogger,
    fields: LogFields,
): Promise<void> {
    const started = Date.now();
    await storage.enqueueCreating(receivedQueue, receivedText(message, logger, fields), { neverExpires: true });
    logStep(logger, 'handed-off', {
        ...fields,
        instanceId: message.kind === 'instance' ? message.instanceId : undefined,
        version: message.kind === 'instance' ? message.version : undefined,
        queue: receivedQueue,
        kind: message.kind,
        elements: message.elements?.length,
        quarantined: message.elements?.filter((element) => element.quarantined).length || undefined,
        durationMs: Date.now() - started,
    });
}
