/**
 * What BrokerProcessor does with one broker-inbound message: decide whether the event is ours,
 * read the file transfer overview, download the file (resumable) into container `broker`, write
 * the overview as filetransfer.json LAST, then confirm the download to Broker.
 *
 * Outcomes, and what the queue sees:
 * - not a valid CloudEvent: refused (step=refused) onto broker-inbound-poison as received, without expiry and with
 *   the reason recorded for `aos poison list` (shared/refusal.ts), done (retrying cannot help);
 * - not ours (type, resource, role), or the overview names another resource: logged, dropped; Broker's echoes of our
 *   own confirmation and `filepurged` are among these (info);
 * - for one of our resources but unusable (a source that is not Broker's, a resourceinstance that is not a file
 *   transfer id): refused onto broker-inbound-poison with the reason, like a message that is not a CloudEvent;
 * - `fileneverconfirmeddownloaded` for us: logged at error as step=broker-never-confirmed, recorded in the ledger
 *   (the status page lists it), dropped (an operator looks at the poison queue: the file was never stored or never
 *   confirmed);
 * - already confirmed (our filetransfer.json says so, or Broker does, or every recipient did): logged, dropped; when
 *   we stored the file but lost Broker's answer to our confirmation, our record is marked confirmed now;
 * - transfer Cancelled, Purged or Failed, or unknown to Broker (404): logged, dropped (there is nothing to fetch);
 * - Broker answers 401 NoAccessToResource (this organisation may not see the transfer or its resource): logged, dropped
 *   without a token refresh (a fresh token would be refused the same way);
 * - transfer not yet Published (Initialized, UploadStarted, UploadProcessing), or Broker answers 400/403 to the
 *   download (no file yet, not ready for download): the invocation fails so the queue retries it; after the last
 *   attempt the message is in broker-inbound-poison, and BrokerCatchUp finds the transfer again once it is published;
 * - any other failure (Broker, storage, checksum): the invocation fails and the queue retries; the next attempt resumes.
 */
import type { BlockBlobClient, ContainerClient } from '@azure/storage-blob';
import { RestError } from '@azure/storage-blob';
import {
    BROKER_READ_SCOPE,
    callerOrganisationNumber,
    isNoAccessToResource,
    recipientStatusOf,
    type BrokerClient,
    type FileTransferOverview,
} from '../altinn/broker';
import { AltinnHttpError } from '../altinn/errors';
import type { AltinnTokenProvider } from '../altinn/http';
import { InvalidCloudEventError, parseCloudEvent, type CloudEvent } from '../cloudEvent';
import type { AppConfig } from '../config';
import { brokerFileSubject, ledgerOf, viaOf, type LedgerSubject, type LedgerWriter } from '../ledger';
import { errorMessage, errorStep, logStep, warnStep, type StepLogger } from '../log';
import { containers, queues } from '../names';
import type { Storage } from '../storage';
import { downloadResumable, type ResumableDownloadOptions } from './download';
import { handOffBrokerFile } from '../handoff/brokerFile';
import { invocationOf, messageEventId, refuseIntoPoison } from '../refusal';
import { decideBrokerEvent, type IgnoreReason } from './event';
import { CONFIRMED_METADATA, contentDisposition, fileBlobName, metadataText, overviewBlobName } from './layout';

export interface BrokerProcessorDeps {
    /** maskinporten.scopes, when given, is checked once for altinn:broker.read. */
    config: Pick<AppConfig, 'brokerResources'> & { maskinporten?: Pick<AppConfig['maskinporten'], 'scopes'> };
    storage: Storage;
    broker: BrokerClient;
    /** To learn which recipient we are when the event carries no organisation subject. */
    tokens?: AltinnTokenProvider;
    /** Download tuning (block size, retries); the defaults suit production. */
    download?: Pick<ResumableDownloadOptions, 'chunkBytes' | 'maxAttemptsWithoutProgress' | 'retryDelayMs'>;
}

export type BrokerOutcome =
    | { outcome: 'invalid' }
    | { outcome: 'ignored'; reason: string }
    | { outcome: 'refused'; reason: string }
    | { outcome: 'skipped'; reason: string; fileTransferId: string }
    | { outcome: 'never-confirmed'; fileTransferId: string }
    | {
          outcome: 'confirmed';
          fileTransferId: string;
          blobName: string;
          bytes: number;
          md5: string;
          /** Bytes this invocation downloaded (0 when an earlier attempt had stored the whole file). */
          downloadedBytes: number;
      };

/** The transfer exists but its file cannot be downloaded yet; the queue retries. */
export class BrokerNotReadyError extends Error {
    readonly transient = true;
    constructor(message: string) {
        super(message);
        this.name = 'BrokerNotReadyError';
    }
}

const NOT_YET_PUBLISHED = new Set(['initialized', 'uploadstarted', 'uploadprocessing']);
/** Decisions about an event on one of our resources that no retry can make usable. */
const unusable = new Set<IgnoreReason>(['source', 'resourceinstance']);
const GONE = new Set(['cancelled', 'purged', 'failed']);

let warnedAboutScope = false;
/** Broker sources in another form than ours, already pointed out by this process. */
const warnedSources = new Set<string>();

/** Per container URL: created (or found) once per process. */
const ensuredContainers = new Map<string, Promise<void>>();

/** Creates container `broker` once per process where it is missing (Bicep normally has). */
function ensureContainer(container: ContainerClient, logger: StepLogger): Promise<void> {
    let ensured = ensuredContainers.get(container.url);
    if (!ensured) {
        ensured = container.createIfNotExists().then(
            () => undefined,
            (error: unknown) => {
                // Without the right to create containers it must exist already; the writes will tell.
                warnStep(logger, 'container-check-failed', {
                    container: container.containerName,
                    error: errorMessage(error),
                });
                ensuredContainers.delete(container.url);
            },
        );
        ensuredContainers.set(container.url, ensured);
    }
    return ensured;
}

function parseMessage(message: unknown): { event?: CloudEvent; text: string; problem?: string } {
    let value: unknown = message;
    let text: string;
    if (Buffer.isBuffer(message) || message instanceof Uint8Array) text = Buffer.from(message).toString('utf8');
    else if (typeof message === 'string') text = message;
    else text = JSON.stringify(message) ?? String(message);
    if (typeof message !== 'object' || message === null || Buffer.isBuffer(message) || message instanceof Uint8Array) {
        try {
            value = JSON.parse(text);
        } catch {
            return { text, problem: 'the message is not JSON' };
        }
    }
    try {
        return { event: parseCloudEvent(value), text };
    } catch (error) {
        return { text, problem: error instanceof InvalidCloudEventError ? error.detail : errorMessage(error) };
    }
}

/** The checksum as 16 bytes: Broker's MD5 hex (any case), or base64 should a sender have given that. */
export function parseChecksum(checksum: string | null | undefined): Buffer | undefined | 'unrecognised' {
    const text = checksum?.trim();
    if (!text) return undefined;
    if (/^[0-9a-f]{32}$/i.test(text)) return Buffer.from(text, 'hex');
    if (/^[A-Za-z0-9+/]{22}==$/.test(text)) return Buffer.from(text, 'base64');
    return 'unrecognised';
}

/** When Broker published the event (its `time`), or now when it carries none Date can read. */
function eventTime(event: CloudEvent): Date {
    const time = event.time ? new Date(event.time) : undefined;
    return time && !Number.isNaN(time.getTime()) ? time : new Date();
}

async function propertiesOrUndefined(blob: BlockBlobClient) {
    try {
        return await blob.getProperties();
    } catch (error) {
        if (error instanceof RestError && error.statusCode === 404) return undefined;
        throw error;
    }
}

export async function processBrokerMessage(
    message: unknown,
    deps: BrokerProcessorDeps,
    logger: StepLogger,
): Promise<BrokerOutcome> {
    const { event, text, problem } = parseMessage(message);
    if (!event) {
        await refuseIntoPoison(deps.storage, logger, {
            queue: queues.brokerInbound,
            text,
            reason: `not a CloudEvent: ${problem}`,
            eventId: messageEventId(message),
            ...invocationOf(logger),
        });
        return { outcome: 'invalid' };
    }

    const decision = decideBrokerEvent(event, {
        brokerResources: deps.config.brokerResources,
        fileTransferBase: deps.broker.fileTransferBase,
    });
    if (!decision.accept && unusable.has(decision.reason)) {
        // It names one of our resources but cannot be Broker's own event: kept in poison for a person to look at.
        await refuseIntoPoison(deps.storage, logger, {
            queue: queues.brokerInbound,
            text,
            reason: `${decision.reason}: ${decision.detail}`,
            eventId: event.id,
            ...invocationOf(logger),
            fields: { eventId: event.id, type: event.type, resource: event.resource },
        });
        return { outcome: 'refused', reason: decision.reason };
    }
    if (!decision.accept) {
        logStep(logger, 'ignored', {
            eventId: event.id,
            type: event.type,
            resource: event.resource,
            reason: decision.reason,
            detail: decision.detail,
        });
        return { outcome: 'ignored', reason: decision.reason };
    }

    const { resourceId, fileTransferId } = decision;
    const fields = { eventId: event.id, resourceId, fileTransferId };
    if (decision.sourceDiffers && !warnedSources.has(event.source)) {
        // Broker builds its source from its own PlatformGatewayUrl; only the id is used, so the event is taken.
        warnedSources.add(event.source);
        warnStep(logger, 'broker-source-differs', {
            source: event.source,
            expected: deps.broker.fileTransferBase,
            setting: 'AltinnPlatformBaseUrl',
        });
    }
    const ledger = {
        writer: ledgerOf(deps.storage).writer(logger),
        subject: brokerFileSubject(resourceId, fileTransferId),
    };
    if (decision.kind === 'never-confirmed') {
        // Broker purged a file we never confirmed: it was never stored, or never confirmed (see broker-inbound-poison).
        // The ledger keeps it, so that the status page lists it for a person to take up with the sender.
        errorStep(logger, 'broker-never-confirmed', { fileTransferId, resourceId, eventId: event.id });
        await ledger.writer.neverConfirmed(ledger.subject, eventTime(event));
        return { outcome: 'never-confirmed', fileTransferId };
    }
    await ledger.writer.firstSeen(ledger.subject, viaOf(event), event.id);
    const scopes = deps.config.maskinporten?.scopes;
    if (scopes && !scopes.includes(BROKER_READ_SCOPE) && !warnedAboutScope) {
        // One token serves every call, with the scopes of MaskinportenScopes: without this one Broker answers 403.
        warnedAboutScope = true;
        warnStep(logger, 'scope-missing', { scope: BROKER_READ_SCOPE, setting: 'MaskinportenScopes' });
    }
    try {
        return await processPublished(deps, logger, ledger, fields, decision.subjectOrganisation);
    } catch (error) {
        if (isNoAccessToResource(error)) {
            warnStep(logger, 'skipped', {
                ...fields,
                reason: 'no-access',
                detail: `Broker refuses this organisation access to the transfer or to resource ${resourceId} (NoAccessToResource): ${errorMessage(error)}`,
            });
            return { outcome: 'skipped', reason: 'no-access', fileTransferId };
        }
        errorStep(logger, 'failed', {
            ...fields,
            transient: (error as { transient?: unknown }).transient === true || undefined,
            error: errorMessage(error),
        });
        throw error;
    }
}

async function processPublished(
    deps: BrokerProcessorDeps,
    logger: StepLogger,
    ledger: { writer: LedgerWriter; subject: LedgerSubject },
    fields: { eventId: string; resourceId: string; fileTransferId: string },
    subjectOrganisation: string | undefined,
): Promise<BrokerOutcome> {
    const started = Date.now();
    const { resourceId, fileTransferId } = fields;
    const container = deps.storage.container(containers.broker);
    await ensureContainer(container, logger);
    const overviewBlob = container.getBlockBlobClient(overviewBlobName(resourceId, fileTransferId));

    // Our own record first: a transfer confirmed before needs no call to Broker at all.
    const stored = await propertiesOrUndefined(overviewBlob);
    if (stored?.metadata?.[CONFIRMED_METADATA]) {
        logStep(logger, 'skipped', {
            ...fields,
            reason: 'already-confirmed',
            confirmed: stored.metadata[CONFIRMED_METADATA],
        });
        return { outcome: 'skipped', reason: 'already-confirmed', fileTransferId };
    }

    let overview: FileTransferOverview;
    let raw: string;
    try {
        ({ overview, raw } = await deps.broker.overview(fileTransferId, { logger }));
    } catch (error) {
        if (error instanceof AltinnHttpError && error.status === 404) {
            warnStep(logger, 'skipped', { ...fields, reason: 'not-found', detail: error.message });
            return { outcome: 'skipped', reason: 'not-found', fileTransferId };
        }
        if (
            error instanceof AltinnHttpError &&
            !isNoAccessToResource(error) &&
            (error.status === 401 || error.status === 403)
        ) {
            throw new Error(
                `${error.message} (does MaskinportenScopes include altinn:broker.read, and may this organisation receive on ${resourceId}?)`,
                { cause: error },
            );
        }
        throw error;
    }

    if (overview.resourceId !== resourceId || overview.fileTransferId.toLowerCase() !== fileTransferId) {
        warnStep(logger, 'ignored', {
            ...fields,
            reason: 'overview-mismatch',
            detail: `the overview is of ${overview.resourceId}/${overview.fileTransferId}`,
        });
        return { outcome: 'ignored', reason: 'overview-mismatch' };
    }

    const status = overview.fileTransferStatus.toLowerCase();
    const organisation = subjectOrganisation ?? (deps.tokens ? await callerOrganisationNumber(deps.tokens) : undefined);
    const ours = recipientStatusOf(overview, organisation);
    logStep(logger, 'overview', {
        ...fields,
        status: overview.fileTransferStatus,
        recipientStatus: ours,
        size: overview.fileTransferSize,
        checksum: overview.checksum ?? undefined,
    });

    const confirmedInBroker = isConfirmed(overview, organisation);
    if (confirmedInBroker && !stored) {
        logStep(logger, 'skipped', { ...fields, reason: 'already-confirmed', status: overview.fileTransferStatus });
        return { outcome: 'skipped', reason: 'already-confirmed', fileTransferId };
    }
    // Confirmed in Broker and stored by us: our confirmation went through but its answer was lost, so only our
    // record is missing (below); whatever Broker's status now (even Purged), there is nothing to fetch or refuse.
    if (!confirmedInBroker && GONE.has(status)) {
        warnStep(logger, 'skipped', { ...fields, reason: 'not-downloadable', status: overview.fileTransferStatus });
        return { outcome: 'skipped', reason: 'not-downloadable', fileTransferId };
    }
    if (!confirmedInBroker && status !== 'published') {
        const known = NOT_YET_PUBLISHED.has(status) ? 'not yet published' : 'in a status this system does not know';
        warnStep(logger, 'not-ready', { ...fields, status: overview.fileTransferStatus });
        throw new BrokerNotReadyError(
            `File transfer ${fileTransferId} is ${known} (${overview.fileTransferStatus}); the queue will try again`,
        );
    }

    const blobName = fileBlobName(resourceId, fileTransferId, overview.fileName);
    let bytes = overview.fileTransferSize;
    let md5: string;
    let downloadedBytes = 0;
    if (stored) {
        // filetransfer.json is written only after the file: the file is complete; only the confirmation failed.
        logStep(logger, 'already-stored', { ...fields, blob: blobName });
        const contentMd5 = (await propertiesOrUndefined(container.getBlockBlobClient(blobName)))?.contentMD5;
        md5 = contentMd5 ? Buffer.from(contentMd5).toString('hex') : '';
    } else {
        const result = await storeFile(deps, logger, fields, overview, container.getBlockBlobClient(blobName));
        bytes = result.bytes;
        md5 = result.md5;
        downloadedBytes = result.downloadedBytes;
        logStep(logger, 'stored', {
            ...fields,
            blob: blobName,
            bytes: result.bytes,
            md5: result.md5,
            sha256: result.sha256,
            checksum: overview.checksum ? 'verified' : 'absent',
            resumedFrom: result.resumedFrom || undefined,
            downloadedBytes: result.downloadedBytes,
            requests: result.requests,
            alreadyComplete: result.alreadyComplete || undefined,
            durationMs: Date.now() - started,
        });
        // LAST: its presence means the file is stored whole.
        await overviewBlob.upload(raw, Buffer.byteLength(raw), {
            blobHTTPHeaders: { blobContentType: 'application/json; charset=utf-8' },
            metadata: { filetransferid: fileTransferId, resourceid: resourceId },
        });
        logStep(logger, 'overview-stored', { ...fields, blob: overviewBlobName(resourceId, fileTransferId) });
        await ledger.writer.stored(ledger.subject, { bytes: result.bytes });
    }

    const confirmStatus = confirmedInBroker
        ? 'already-confirmed'
        : await confirmDownload(deps, logger, fileTransferId, organisation);
    // Also when Broker already had our confirmation: the attempt that confirmed may have stopped before the hand-off.
    await handOffBrokerFile(deps.storage, logger, fields, overview);
    const confirmedAt = new Date().toISOString();
    const metadata = (await overviewBlob.getProperties()).metadata ?? {};
    await overviewBlob.setMetadata({ ...metadata, [CONFIRMED_METADATA]: confirmedAt });
    logStep(logger, 'confirmed', { ...fields, status: confirmStatus, durationMs: Date.now() - started });
    await ledger.writer.confirmed(ledger.subject);
    return { outcome: 'confirmed', fileTransferId, blobName, bytes, md5, downloadedBytes };
}

/** Broker holds the transfer as confirmed by us: our recipient status, or every recipient's. */
function isConfirmed(overview: FileTransferOverview, organisation: string | undefined): boolean {
    return (
        recipientStatusOf(overview, organisation)?.toLowerCase() === 'downloadconfirmed' ||
        overview.fileTransferStatus.toLowerCase() === 'allconfirmeddownloaded'
    );
}

/**
 * POST confirmdownload. Broker has no idempotency key for it any more: a retry whose first attempt
 * went through (response lost) after we were the last recipient to confirm answers 400
 * FileTransferNotPublished (ConfirmDownloadHandler: the transfer is AllConfirmedDownloaded by then).
 * So a 400 is settled by the overview: if it says we confirmed, we did.
 */
async function confirmDownload(
    deps: BrokerProcessorDeps,
    logger: StepLogger,
    fileTransferId: string,
    organisation: string | undefined,
): Promise<number | 'already-confirmed'> {
    try {
        return await deps.broker.confirmDownload(fileTransferId, { logger });
    } catch (error) {
        if (!(error instanceof AltinnHttpError && error.status === 400)) throw error;
        const { overview } = await deps.broker.overview(fileTransferId, { logger });
        if (!isConfirmed(overview, organisation)) throw error;
        logStep(logger, 'confirm-already-done', { fileTransferId, status: overview.fileTransferStatus });
        return 'already-confirmed';
    }
}

async function storeFile(
    deps: BrokerProcessorDeps,
    logger: StepLogger,
    fields: { eventId: string; resourceId: string; fileTransferId: string },
    overview: FileTransferOverview,
    blob: BlockBlobClient,
) {
    const checksum = parseChecksum(overview.checksum);
    if (checksum === 'unrecognised') {
        warnStep(logger, 'checksum-unrecognised', { ...fields, checksum: overview.checksum ?? undefined });
    }
    const metadata: Record<string, string> = {
        filetransferid: fields.fileTransferId,
        resourceid: fields.resourceId,
        filename: metadataText(overview.fileName),
    };
    if (overview.sender) metadata.sender = metadataText(overview.sender);
    if (overview.sendersFileTransferReference) {
        metadata.sendersreference = metadataText(overview.sendersFileTransferReference);
    }
    try {
        return await downloadResumable({
            blob,
            size: overview.fileTransferSize,
            expectedMd5: checksum instanceof Buffer ? checksum : undefined,
            open: (offset) => deps.broker.download(fields.fileTransferId, offset, { logger }),
            httpHeaders: {
                blobContentType: 'application/octet-stream',
                blobContentDisposition: contentDisposition(overview.fileName),
            },
            metadata,
            logger,
            logFields: fields,
            ...deps.download,
        });
    } catch (error) {
        if (error instanceof AltinnHttpError && (error.status === 400 || error.status === 403)) {
            // Broker: 400 no file uploaded yet, 403 not ready for download (or no access): retry later.
            warnStep(logger, 'not-ready', { ...fields, status: error.status, detail: error.message });
            throw new BrokerNotReadyError(`${error.message}; the queue will try again`);
        }
        throw error;
    }
}
