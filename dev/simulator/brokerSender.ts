import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream, rmSync } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { authenticate, hasScope } from './authentication';
import {
    callerOf,
    knownResource,
    publishBrokerEvent,
    sendBrokerError,
    setTransferStatus,
    withPrefix,
    WRITE,
} from './broker';
import { purgeFileTransfer } from './brokerExpiry';
import { type ScanVerdict } from './brokerScans';
import { digestContent } from './content';
import { type SimCore } from './core';
import { readJson, sendEmpty, sendJson, sendValidationProblem } from './http';
import { type RequestContext, type RouteDefinition } from './router';
import { type FileTransferRecord } from './state';

/*
 * Altinn 3 Broker, the sender side, as altinn-broker (161ba122) does it; every rule below names its
 * source in that repository, and dev/simulator/README.md lists them:
 *
 * - POST /broker/api/v1/filetransfer (FileTransferController.InitializeFileTransfer, model
 *   API/Models/FileTransferInitializeExt.cs, Application/InitializeFileTransfer/InitializeFileTransferHandler.cs);
 * - POST /broker/api/v1/filetransfer/{id}/upload (FileTransferController.UploadStreamed,
 *   Application/UploadFile/UploadFileHandler.cs, Tus/TusUploadValidationService.cs, CompleteFileUploadHandler.cs);
 * - the malware scan and publishing (MalwareScanResults/MalwareScanResultHandler.cs,
 *   UploadFile/FileTransferPublishService.cs), and the purge after a malware finding (brokerExpiry.ts).
 */

/** ApplicationConstants.MaxVirusScanUploadSize. */
export const MAX_VIRUS_SCAN_UPLOAD_SIZE = 50 * 1000 * 1000 * 1000;

/** API/Configuration/Constants.cs OrgNumberPattern. */
const ORG_NUMBER = /^(?:\d{4}:\d{9}|urn:altinn:organization:identifier-no:\d{9})$/;
/** ValidationAttributes/ResourceIdentifierAttribute.cs. */
const RESOURCE_ID = /^(?:urn:altinn:resource:)?[^:]{1,255}$/;

/** Common/…WithoutPrefix then WithPrefix: "0192:" + the 9 digits, whichever form was sent. */
function actorId(party: string): string {
    return withPrefix(party.replace(/^(?:\d{4}:|urn:altinn:organization:identifier-no:)/, ''));
}

/** DataAnnotations' default message for StringLength with a minimum. */
function lengthMessage(field: string, min: number, max: number): string {
    return `The field ${field} must be a string with a minimum length of ${min} and a maximum length of ${max}.`;
}

/**
 * [ApiController] model validation of FileTransferInitalizeExt, with the messages of its attributes.
 * SendersFileTransferReference defaults to string.Empty and carries StringLength(4096, MinimumLength = 1),
 * so leaving it out is a 400 like sending "" (only an explicit null passes).
 */
function validateInitialize(body: Record<string, unknown>): Record<string, string[]> {
    const errors: Record<string, string[]> = {};
    const add = (field: string, message: string) => (errors[field] ??= []).push(message);
    const text = (name: string): string | null | undefined =>
        body[name] === null ? null : typeof body[name] === 'string' ? body[name] : undefined;

    const fileName = text('fileName');
    if (!fileName) add('FileName', 'The FileName field is required.');
    else if (fileName.length > 255) add('FileName', lengthMessage('FileName', 1, 255));
    const resourceId = text('resourceId');
    if (!resourceId) add('ResourceId', 'The ResourceId field is required.');
    else if (resourceId.length > 255) add('ResourceId', lengthMessage('ResourceId', 1, 255));
    else if (!RESOURCE_ID.test(resourceId)) add('ResourceId', 'Invalid Resource identifier format');
    const reference = body.sendersFileTransferReference === undefined ? '' : text('sendersFileTransferReference');
    if (reference !== null && (reference === undefined || reference.length < 1 || reference.length > 4096)) {
        add('SendersFileTransferReference', lengthMessage('SendersFileTransferReference', 1, 4096));
    }
    const sender = text('sender');
    if (!sender) add('Sender', 'The Sender field is required.');
    else if (!ORG_NUMBER.test(sender)) {
        add(
            'Sender',
            'Organization numbers should be on the form countrycode:organizationnumber (e.g. 0192:910753614) or urn:altinn:organization:identifier-no:organizationnumber',
        );
    }
    const recipients = body.recipients;
    if (!Array.isArray(recipients)) add('Recipients', 'The Recipients field is required.');
    else if (recipients.length < 1) add('Recipients', 'One or more recipients are required');
    else if (!recipients.every((r) => typeof r === 'string' && ORG_NUMBER.test(r))) {
        add(
            'Recipients',
            'Each recipient should be on the form countrycode:organizationnumber (e.g. 0192:910753614) or urn:altinn:organization:identifier-no:organizationnumber',
        );
    }
    const properties = body.propertyList;
    if (properties !== undefined && properties !== null) {
        const entries = typeof properties === 'object' && !Array.isArray(properties) ? Object.entries(properties) : [];
        if (entries.some(([, value]) => typeof value !== 'string') || typeof properties !== 'object') {
            add('PropertyList', 'PropertyList Object is not of proper type');
        } else if (entries.length > 10) add('PropertyList', 'PropertyList can contain at most 10 properties');
        else {
            for (const [key, value] of entries as [string, string][]) {
                if (key.length > 50) {
                    add(
                        'PropertyList',
                        `PropertyList Key can not be longer than 50. Length:${key.length}, KeyValue:${key}`,
                    );
                } else if (value.length > 3000) {
                    add(
                        'PropertyList',
                        `PropertyList Value can not be longer than 3000. Length:${value.length}, Value:${value}`,
                    );
                }
            }
        }
    }
    const checksum = text('checksum');
    if (checksum && checksum.trim()) {
        if (checksum.length !== 32)
            add('Checksum', 'The checksum, if used, must be a MD5 hash with a length of 32 characters');
        else if (checksum.toLowerCase() !== checksum)
            add('Checksum', 'The checksum, if used, must be a MD5 hash in lower case');
    }
    if (
        body.disableVirusScan !== undefined &&
        body.disableVirusScan !== null &&
        typeof body.disableVirusScan !== 'boolean'
    ) {
        add('DisableVirusScan', `The JSON value could not be converted to System.Nullable\`1[System.Boolean].`);
    }
    return errors;
}

/**
 * CheckAccessAsSender (Integrations/Altinn/Authorization/AltinnAuthorizationService.cs): the XACML
 * decision on write access to the resource for the sender party. Reduced here to: the resource is
 * registered in Broker and the caller's organisation is the sender.
 */
function mayActAsSender(core: SimCore, caller: string | undefined, resourceId: string, sender: string): boolean {
    return caller !== undefined && caller === actorId(sender) && knownResource(core, resourceId);
}

async function initialize(core: SimCore, ctx: RequestContext): Promise<void> {
    const principal = await authenticate(core, ctx, ['altinn', 'maskinporten']);
    if (!principal) return;
    if (!hasScope(principal, WRITE)) {
        sendEmpty(ctx.res, 403);
        return;
    }
    let body: unknown;
    try {
        body = await readJson(ctx.req);
    } catch {
        sendValidationProblem(ctx.res, { $: ['The input was not valid JSON.'] });
        return;
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
        sendValidationProblem(ctx.res, { '': ['A non-empty request body is required.'] });
        return;
    }
    const input = body as Record<string, unknown>;
    const invalid = validateInitialize(input);
    if (Object.keys(invalid).length > 0) {
        sendValidationProblem(ctx.res, invalid);
        return;
    }
    // InitializeFileTransferMapper: the resource id without its urn:altinn:resource: prefix.
    const resourceId = (input.resourceId as string).replace(/^urn:altinn:resource:/, '');
    const sender = input.sender as string;
    if (!mayActAsSender(core, callerOf(principal), resourceId, sender)) {
        sendBrokerError(ctx, 'noAccessToResource');
        return;
    }
    const now = new Date().toISOString();
    const checksum = typeof input.checksum === 'string' && input.checksum.trim() ? input.checksum : undefined;
    const transfer: FileTransferRecord = {
        id: randomUUID(),
        resourceId,
        fileName: input.fileName as string,
        ...(typeof input.sendersFileTransferReference === 'string'
            ? { sendersFileTransferReference: input.sendersFileTransferReference }
            : {}),
        ...(checksum ? { checksum } : {}),
        sender: actorId(sender),
        recipients: (input.recipients as string[]).map((recipient) => ({
            recipient: actorId(recipient),
            status: 'Initialized',
            changed: now,
            history: [{ status: 'Initialized', changed: now }],
        })),
        created: now,
        // Resource FileTransferTimeToLive, default 30 days; the control API's expireFileTransfer runs the purge now.
        expirationTime: new Date(Date.now() + 30 * 24 * 3600 * 1000).toISOString(),
        useVirusScan: input.disableVirusScan !== true,
        status: 'Initialized',
        statusChanged: now,
        statusHistory: [{ status: 'Initialized', changed: now }],
        propertyList: { ...((input.propertyList as Record<string, string> | null | undefined) ?? {}) },
    };
    core.state.fileTransfers.set(transfer.id, transfer);
    publishBrokerEvent(core, transfer, 'filetransferinitialized', transfer.sender, 'Sender');
    sendJson(ctx.res, 200, { fileTransferId: transfer.id });
}

/** Counts and hashes the bytes on their way to disk (AzureStorageService.UploadFile's MD5 over the blocks). */
function measuring(): { transform: Transform; result: () => { md5: string; length: number } } {
    const hash = createHash('md5');
    let length = 0;
    const transform = new Transform({
        transform(chunk: Buffer, _encoding, done) {
            hash.update(chunk);
            length += chunk.length;
            done(null, chunk);
        },
    });
    return { transform, result: () => ({ md5: hash.digest('hex'), length }) };
}

/** Failed with its DetailedStatus and the uploadfailed event to the sender (UploadFileHandler's catch). */
function uploadFailed(core: SimCore, transfer: FileTransferRecord, text: string): void {
    setTransferStatus(transfer, 'Failed', text);
    publishBrokerEvent(core, transfer, 'uploadfailed', transfer.sender, 'Sender');
}

async function upload(core: SimCore, ctx: RequestContext): Promise<void> {
    const principal = await authenticate(core, ctx, ['altinn', 'maskinporten']);
    if (!principal) return;
    if (!hasScope(principal, WRITE)) {
        sendEmpty(ctx.res, 403);
        return;
    }
    // TusUploadValidationService.ValidateForUploadAsync, in its order.
    const transfer = core.state.fileTransfers.get(ctx.params.id.toLowerCase());
    if (!transfer) {
        sendBrokerError(ctx, 'fileTransferNotFound');
        return;
    }
    if (!mayActAsSender(core, callerOf(principal), transfer.resourceId, transfer.sender)) {
        sendBrokerError(ctx, 'noAccessToResource');
        return;
    }
    if (transfer.status !== 'Initialized' && transfer.status !== 'UploadStarted') {
        sendBrokerError(ctx, 'fileTransferAlreadyUploaded');
        return;
    }
    const declared = ctx.req.headers['content-length'];
    const length = declared === undefined ? undefined : Number(declared);
    const max = core.options.brokerMaxFileTransferSize;
    if (
        length !== undefined &&
        ((transfer.useVirusScan && length > MAX_VIRUS_SCAN_UPLOAD_SIZE) || (max !== undefined && length > max))
    ) {
        sendBrokerError(ctx, 'fileSizeTooBig');
        return;
    }
    setTransferStatus(transfer, 'UploadStarted');
    const path = core.uploadPath(transfer.id);
    const measured = measuring();
    ctx.contentKey = transfer.id;
    try {
        await pipeline(ctx.req, measured.transform, createWriteStream(path));
    } catch (error) {
        // The stream broke (the sender went away, a reset): the blob is deleted and the transfer Failed.
        core.log(`broker upload ${transfer.id} broke: ${(error as Error).message}`);
        rmSync(path, { force: true });
        uploadFailed(core, transfer, 'Error occurred while uploading fileTransfer');
        if (!ctx.res.headersSent && !ctx.res.destroyed) sendBrokerError(ctx, 'uploadFailed');
        return;
    }
    const { md5, length: received } = measured.result();
    // CompleteFileUploadHandler: a checksum given at initialize must match, case-insensitively. The
    // streamed upload sends no uploadfailed event for this (only the TUS path's TusChecksumProcessingHandler does).
    if (transfer.checksum && transfer.checksum.toLowerCase() !== md5) {
        setTransferStatus(transfer, 'Failed', 'Checksum mismatch');
        rmSync(path, { force: true });
        sendBrokerError(ctx, 'checksumMismatch');
        return;
    }
    transfer.content = { kind: 'file', path, size: received };
    if (transfer.useVirusScan) {
        setTransferStatus(transfer, 'UploadProcessing');
        publishBrokerEvent(core, transfer, 'uploadprocessing', transfer.sender, 'Sender');
        core.brokerScans.schedule(
            transfer.id,
            core.options.brokerMalwareScanMs,
            (verdict) => void scanned(core, transfer, verdict),
        );
    } else {
        await publish(core, transfer);
    }
    sendJson(ctx.res, 200, { fileTransferId: transfer.id });
}

/**
 * FileTransferPublishService.TryPublishAsync: Published, and `published` to the sender and to each
 * recipient. Without a checksum from the sender Broker computes one (TusChecksumProcessingHandler).
 */
async function publish(core: SimCore, transfer: FileTransferRecord): Promise<void> {
    if (!transfer.checksum && transfer.content) transfer.checksum = await digestContent(transfer.content, 'md5');
    setTransferStatus(transfer, 'Published');
    transfer.published = transfer.statusChanged;
    publishBrokerEvent(core, transfer, 'published', transfer.sender, 'Sender');
    for (const recipient of transfer.recipients) {
        publishBrokerEvent(core, transfer, 'published', recipient.recipient, 'Recipient');
    }
}

/**
 * MalwareScanResultHandler: a result for a Failed transfer is ignored; "No threats found" publishes;
 * anything else is Failed "Malware scan failed: …", uploadfailed to the sender, and a purge.
 */
async function scanned(core: SimCore, transfer: FileTransferRecord, verdict: ScanVerdict): Promise<void> {
    if (transfer.status !== 'UploadProcessing') return;
    if (verdict === 'Clean') {
        await publish(core, transfer);
        return;
    }
    uploadFailed(core, transfer, 'Malware scan failed: Malicious. Extra details: {}');
    purgeFileTransfer(core, transfer, 'MalwareScanFailed');
}

/** Reports a held malware scan (PendingScans.hold); false when none is pending for the transfer. */
export function completeScan(core: SimCore, fileTransferId: string, verdict: ScanVerdict): boolean {
    return core.brokerScans.complete(fileTransferId.toLowerCase(), verdict);
}

export function brokerSenderRoutes(core: SimCore): RouteDefinition[] {
    const base = '/broker/api/v1/filetransfer';
    return [
        {
            listener: 'platform',
            method: 'POST',
            path: base,
            endpoint: 'broker.initialize',
            handler: (ctx) => initialize(core, ctx),
        },
        {
            listener: 'platform',
            method: 'POST',
            path: `${base}/{id:guid}/upload`,
            endpoint: 'broker.upload',
            handler: (ctx) => upload(core, ctx),
        },
    ];
}
