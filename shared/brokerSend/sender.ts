/**
 * What BrokerSender does with one send request on queue broker-send: initialize a Broker file
 * transfer for the file in broker-outbound, record its id (blob metadata, then the ledger) before
 * anything is uploaded, stream the file to Broker's upload, and follow the transfer from there
 * (shared/brokerSend/follow.ts). Broker's rules (altinn-broker, Application/InitializeFileTransfer,
 * Application/UploadFile) decide what a retry does:
 *
 * - A transfer is never initialized twice for one request. The blob's `filetransferid` says which
 *   transfer is the request's; an attempt that stopped after Broker created a transfer but before
 *   the id was recorded (its claim `sendclaimed` is there, the id is not) finds that transfer in
 *   Broker's list of what we sent since the claim (same reference, file name, recipients; not
 *   recorded by another request) and takes it over.
 * - An upload is never repeated on a transfer that Broker saw an upload attempt for: Broker allows
 *   an upload only while the transfer is Initialized or UploadStarted (TusUploadValidationService:
 *   later is 409 "Create a new file transfer resource to try again"). UploadStarted means an upload
 *   is under way at Broker (its own attempt fails the transfer when the stream breaks): the queue
 *   tries again later.
 * - When an upload broke (Failed, "Error occurred while uploading fileTransfer" or "File upload
 *   failed and was aborted": the stream was cut, or Broker could not store it), the file is sent
 *   again on a new transfer, at most `maxTransfersPerRequest` in all; the broken one is `retried`.
 * - A checksum mismatch (400 BRO-00009; Broker fails the transfer "Checksum mismatch" and sends no
 *   event), a malware finding, or a file Broker refuses as too large (400 BRO-00016, before it
 *   starts) would fail again: the request ends `failed`, handed back to the case systems.
 *
 * Outcomes, and what the queue sees:
 * - not a valid send request: refused (step=refused) onto broker-send-poison as received, never to expire, with the
 *   reason recorded for `aos poison list` (shared/refusal.ts), done;
 * - sent (uploaded and on its way), or already further along, or final: done; events and the
 *   catch-up follow the rest;
 * - anything else (Broker, storage, another attempt at the same request): the invocation fails and
 *   the queue retries; after the last attempt the request is in broker-send-poison.
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
    BROKER_WRITE_SCOPE,
    brokerErrorCode,
    ourOrganisationNumber,
    organisationNumberOf,
    type BrokerClient,
    type FileTransferOverview,
} from '../altinn/broker';
import { AltinnHttpError } from '../altinn/errors';
import type { AltinnTokenProvider } from '../altinn/http';
import type { AppConfig } from '../config';
import { ledgerOf, recordSent, recordSentStrictly, sentFileSubject, type Ledger, type SendState } from '../ledger';
import { errorMessage, errorStep, logStep, warnStep, type LogFields, type StepLogger } from '../log';
import { queues } from '../names';
import { invocationOf, queueItemText, refuseIntoPoison } from '../refusal';
import type { Storage } from '../storage';
import { applyOverview, isSentEntry, settle, type SentEntry } from './follow';
import { ConcurrentSendError, outboxMetadata, readOutbox, updateOutbox, type OutboxFile } from './outbox';
import { md5Stream } from './md5Stream';
import { InvalidSendRequestError, parseSendRequest, type SendRequest } from './request';
import { isRetryableFailure, transferState } from './state';

export interface BrokerSenderDeps {
    config: Pick<AppConfig, 'brokerOrganisationNumber'> & { maskinporten?: Pick<AppConfig['maskinporten'], 'scopes'> };
    storage: Storage;
    broker: BrokerClient;
    /** Our organisation (the token's) when BrokerOrgNumber is unset. */
    tokens?: AltinnTokenProvider;
    now?: () => Date;
}

export type SendOutcome =
    { outcome: 'invalid' } | { outcome: 'sent'; fileTransferId: string; state: SendState; uploadedBytes: number };

/** Transfers one request may use: the first, and new ones after uploads that broke. */
export const maxTransfersPerRequest = 3;

/** How long a claim without a recorded transfer keeps another attempt from initializing (its own may be under way). */
export const claimLeaseMs = 2 * 60 * 1000;

/** Broker's times and ours may differ a little: the list for a lost transfer starts this much before the claim. */
const clockSkewMs = 60 * 1000;

/** The transfer is being uploaded right now (UploadStarted): the queue tries again later. */
export class UploadInProgressError extends Error {
    readonly transient = true;
    constructor(fileTransferId: string) {
        super(
            `File transfer ${fileTransferId} is UploadStarted: an upload is under way at Broker; the queue will try again`,
        );
        this.name = 'UploadInProgressError';
    }
}

let warnedAboutScope = false;

/** A request that can never be sent: into broker-send-poison as received, with the reason (shared/refusal.ts). */
async function refuse(
    deps: BrokerSenderDeps,
    logger: StepLogger,
    message: unknown,
    reason: string,
): Promise<SendOutcome> {
    const blob = (message as { blob?: unknown } | null)?.blob;
    await refuseIntoPoison(deps.storage, logger, {
        queue: queues.brokerSend,
        text: queueItemText(message),
        reason: `not a send request: ${reason}`,
        // Failure records of send requests are keyed by their blob (failures.ts), when they name one.
        ...(typeof blob === 'string' && blob !== '' ? { eventId: blob } : {}),
        ...invocationOf(logger),
    });
    return { outcome: 'invalid' };
}

export async function processSendRequest(
    message: unknown,
    deps: BrokerSenderDeps,
    logger: StepLogger,
): Promise<SendOutcome> {
    let request: SendRequest;
    try {
        request = parseSendRequest(message);
    } catch (error) {
        if (error instanceof InvalidSendRequestError) return refuse(deps, logger, message, error.detail);
        throw error;
    }
    const scopes = deps.config.maskinporten?.scopes;
    if (scopes && !scopes.includes(BROKER_WRITE_SCOPE) && !warnedAboutScope) {
        warnedAboutScope = true;
        warnStep(logger, 'scope-missing', { scope: BROKER_WRITE_SCOPE, setting: 'MaskinportenScopes' });
    }
    const organisation = await ourOrganisationNumber(deps.config.brokerOrganisationNumber, deps.tokens);
    if (!organisation) {
        throw new Error(
            'Cannot tell which organisation sends: the Altinn token has no urn:altinn:orgNumber; set BrokerOrgNumber',
        );
    }
    try {
        return await send({
            deps,
            logger,
            request,
            organisation,
            fields: { blob: request.blob, resourceId: request.resourceId },
        });
    } catch (error) {
        errorStep(logger, 'failed', {
            blob: request.blob,
            resourceId: request.resourceId,
            transient: (error as { transient?: unknown }).transient === true || undefined,
            error: errorMessage(error),
        });
        throw error;
    }
}

interface Attempt {
    deps: BrokerSenderDeps;
    logger: StepLogger;
    request: SendRequest;
    organisation: string;
    fields: LogFields;
}

async function send(attempt: Attempt): Promise<SendOutcome> {
    const { deps, logger, request } = attempt;
    const ledger = ledgerOf(deps.storage);
    let file = await readOutbox(deps.storage, request.blob);
    let uploadedBytes = 0;
    for (let round = 0; round < 3 * maxTransfersPerRequest; round++) {
        let id = file.metadata[outboxMetadata.fileTransferId];
        if (!id) ({ file, id } = await startTransfer(attempt, file, ledger));
        const entry = await sentEntry(attempt, ledger, file, id);
        if (entry.sent.final) {
            logStep(logger, 'already-done', { ...attempt.fields, fileTransferId: id, state: entry.sent.state });
            return { outcome: 'sent', fileTransferId: id, state: entry.sent.state, uploadedBytes };
        }
        const { overview } = await deps.broker.overview(id, { logger });
        const status = overview.fileTransferStatus.toLowerCase();
        if (status === 'initialized') {
            const uploaded = await upload(attempt, file, entry);
            if (uploaded === 'refused') {
                return { outcome: 'sent', fileTransferId: id, state: 'failed', uploadedBytes };
            }
            uploadedBytes += uploaded;
            continue; // what Broker made of it: the overview, once more
        }
        if (status === 'uploadstarted') throw new UploadInProgressError(id);
        if (status === 'failed' && isRetryableFailure(overview.fileTransferStatusText as string | undefined)) {
            const previous = [...entry.sent.previous, id];
            if (entry.sent.sending && previous.length < maxTransfersPerRequest) {
                file = await retryOnNewTransfer(attempt, file, entry, overview, previous);
                continue;
            }
        }
        const state = await applyOverview(deps, logger, entry, overview, attempt.fields);
        return { outcome: 'sent', fileTransferId: id, state, uploadedBytes };
    }
    throw new Error(`${request.blob}: no transfer settled after ${3 * maxTransfersPerRequest} rounds`);
}

/** The ledger entry of the request's transfer; recorded now if the attempt that recorded the id stopped before it. */
async function sentEntry(attempt: Attempt, ledger: Ledger, file: OutboxFile, id: string): Promise<SentEntry> {
    const subject = sentFileSubject(attempt.request.resourceId, id);
    const entry = await ledger.get(subject);
    if (isSentEntry(entry)) return entry;
    await recordSentStrictly(ledger, subject, initialFacts(attempt, file));
    const recorded = await ledger.get(subject);
    if (!isSentEntry(recorded)) throw new Error(`The ledger did not keep the entry of transfer ${id}`);
    return recorded;
}

function initialFacts(attempt: Attempt, file: OutboxFile) {
    const { request } = attempt;
    return {
        state: 'initialized' as const,
        blob: request.blob,
        fileName: request.fileName,
        sendersReference: request.sendersFileTransferReference,
        recipients: request.recipients.map((recipient) => ({ recipient, status: 'Initialized' })),
        confirmedRecipients: 0,
        final: false,
        sending: true,
        initializedAt: attempt.deps.now?.() ?? new Date(),
        previous: (file.metadata[outboxMetadata.previous] ?? '').split(',').filter(Boolean),
    };
}

/**
 * Claims the request, initializes a transfer and records its id: first in the blob's metadata (what
 * every later attempt reads), then in the ledger, which must take it before anything is uploaded.
 * An earlier claim without an id means an earlier attempt may have created a transfer and stopped:
 * that transfer is found and taken over instead.
 */
async function startTransfer(
    attempt: Attempt,
    file: OutboxFile,
    ledger: Ledger,
): Promise<{ file: OutboxFile; id: string }> {
    const { deps, logger, request, organisation, fields } = attempt;
    const now = deps.now?.() ?? new Date();
    const claimed = file.metadata[outboxMetadata.claimed];
    if (claimed) {
        const found = await findLostTransfer(attempt, ledger, new Date(claimed));
        if (found) {
            const recorded = await updateOutbox(file, { [outboxMetadata.fileTransferId]: found });
            await recordSentStrictly(
                ledger,
                sentFileSubject(request.resourceId, found),
                initialFacts(attempt, recorded),
            );
            warnStep(logger, 'broker-send-recovered', { ...fields, fileTransferId: found, claimed });
            return { file: recorded, id: found };
        }
        if (now.getTime() - Date.parse(claimed) < claimLeaseMs) {
            throw new ConcurrentSendError(request.blob, `an attempt claimed it at ${claimed} and may be initializing`);
        }
    }
    const claim = await updateOutbox(file, { [outboxMetadata.claimed]: now.toISOString() });
    const id = await deps.broker.initialize(
        {
            fileName: request.fileName,
            resourceId: request.resourceId,
            sendersFileTransferReference: request.sendersFileTransferReference,
            sender: `0192:${organisation}`,
            recipients: request.recipients,
            propertyList: request.propertyList,
            ...(request.checksum ? { checksum: request.checksum } : {}),
            ...(request.disableVirusScan !== undefined ? { disableVirusScan: request.disableVirusScan } : {}),
        },
        { logger },
    );
    const recorded = await updateOutbox(claim, { [outboxMetadata.fileTransferId]: id });
    await recordSentStrictly(ledger, sentFileSubject(request.resourceId, id), initialFacts(attempt, recorded));
    logStep(logger, 'broker-send-initialized', {
        ...fields,
        fileTransferId: id,
        recipients: request.recipients.length,
        bytes: file.size,
        checksum: request.checksum ? 'given' : 'absent',
    });
    return { file: recorded, id };
}

/** A transfer Broker created for this request whose id no attempt recorded (see startTransfer). */
async function findLostTransfer(attempt: Attempt, ledger: Ledger, claimed: Date): Promise<string | undefined> {
    const { deps, logger, request, organisation } = attempt;
    if (Number.isNaN(claimed.getTime())) return undefined;
    const ids = await deps.broker.list(
        {
            resourceId: request.resourceId,
            role: 'Sender',
            orderAscending: true,
            from: new Date(claimed.getTime() - clockSkewMs),
        },
        { logger },
    );
    const wanted = [...request.recipients].sort().join(',');
    for (const id of ids.map((candidate) => candidate.toLowerCase())) {
        if (await ledger.get(sentFileSubject(request.resourceId, id))) continue; // another request's
        const { overview } = await deps.broker.overview(id, { logger });
        const recipients = overview.recipients.map((r) => `0192:${organisationNumberOf(r.recipient) ?? r.recipient}`);
        if (
            overview.fileTransferStatus === 'Initialized' &&
            organisationNumberOf(overview.sender) === organisation &&
            overview.sendersFileTransferReference === request.sendersFileTransferReference &&
            overview.fileName === request.fileName &&
            recipients.sort().join(',') === wanted
        ) {
            return id;
        }
    }
    return undefined;
}

/**
 * Streams the blob to Broker's upload, never holding more than the streams' own buffers. Resolves
 * with the bytes sent, or 'refused' when Broker refused the file before taking it (too large):
 * then the request has ended failed. Any other refusal or break is left to the overview (checksum
 * mismatch, a failed store: Failed) or to the queue (network, access).
 */
async function upload(attempt: Attempt, file: OutboxFile, entry: SentEntry): Promise<number | 'refused'> {
    const { deps, logger, request, fields } = attempt;
    const started = Date.now();
    const log = { ...fields, fileTransferId: entry.id };
    logStep(logger, 'broker-upload-started', { ...log, bytes: file.size });
    const download = await file.blob.download(0, undefined, { conditions: { ifMatch: file.etag } });
    // The file as it streams from storage, hashed on the way; Broker's upload is its reader.
    const hashing = md5Stream();
    const body = hashing.stream;
    const reading = pipeline(download.readableStreamBody as Readable, body);
    try {
        await Promise.all([deps.broker.upload(entry.id, body, file.size, { logger }), reading]);
    } catch (error) {
        body.destroy();
        await reading.catch(() => undefined);
        if (error instanceof AltinnHttpError && brokerErrorCode(error) === 'BRO-00016') {
            // Broker refused it before it began (File size exceeds maximum): the transfer stays Initialized until it expires.
            await settle(
                deps,
                logger,
                entry,
                {
                    state: 'failed',
                    brokerStatus: 'Initialized',
                    brokerStatusText: `${error.problem?.detail ?? 'File size exceeds maximum'} (${file.size} bytes)`,
                    recipients: entry.sent.recipients,
                    confirmedRecipients: 0,
                },
                log,
            );
            return 'refused';
        }
        if (
            error instanceof AltinnHttpError &&
            ['BRO-00009', 'BRO-00004', 'BRO-00008'].includes(brokerErrorCode(error) ?? '')
        ) {
            // Checksum mismatch, already uploaded, upload failed: Broker has moved the transfer on; its overview says where.
            warnStep(logger, 'broker-upload-refused', {
                ...log,
                status: error.status,
                code: brokerErrorCode(error),
                detail: error.message,
            });
            return 0;
        }
        if (error instanceof AltinnHttpError && (error.status === 401 || error.status === 403)) {
            throw new Error(
                `${error.message} (does MaskinportenScopes include ${BROKER_WRITE_SCOPE}, and may this organisation send on ${request.resourceId}?)`,
                { cause: error },
            );
        }
        throw error;
    }
    const sentMd5 = hashing.result().md5;
    logStep(logger, 'broker-uploaded', {
        ...log,
        bytes: file.size,
        md5: sentMd5,
        checksum: request.checksum ? (request.checksum === sentMd5 ? 'matches' : 'differs') : 'absent',
        durationMs: Date.now() - started,
    });
    return file.size;
}

/**
 * The upload to the request's transfer broke: Broker has failed that transfer and takes no second
 * upload on it, so the file goes again on a new one. The broken transfer is recorded `retried`
 * (final, nothing handed back), and the blob forgets its id and claim, keeping it in previoustransfers.
 */
async function retryOnNewTransfer(
    attempt: Attempt,
    file: OutboxFile,
    entry: SentEntry,
    overview: FileTransferOverview,
    previous: string[],
): Promise<OutboxFile> {
    const { deps, logger, fields } = attempt;
    const state = transferState(overview);
    const cleared = await updateOutbox(file, {
        [outboxMetadata.fileTransferId]: undefined,
        [outboxMetadata.claimed]: undefined,
        [outboxMetadata.previous]: previous.join(','),
    });
    await recordSent(ledgerOf(deps.storage), logger, sentFileSubject(entry.resourceId ?? '', entry.id), {
        state: 'retried',
        brokerStatus: state.brokerStatus,
        brokerStatusText: state.brokerStatusText,
        final: true,
        sending: false,
        finalAt: deps.now?.() ?? new Date(),
    });
    warnStep(logger, 'broker-upload-retried', {
        ...fields,
        fileTransferId: entry.id,
        reason: state.brokerStatusText,
        transfers: previous.length,
    });
    return cleared;
}
