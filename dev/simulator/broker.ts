import { randomUUID } from 'node:crypto';
import { authenticate, hasScope } from './authentication';
import { contentFromInput, contentSize, digestContent, openContent, parseRange } from './content';
import { type SimCore } from './core';
import { contentDisposition, sendEmpty, sendJson, sendProblem, sendValidationProblem, streamBody } from './http';
import { fileTransferDetailsJson, fileTransferOverviewJson } from './models';
import { type RequestContext, type RouteDefinition } from './router';
import { type FileTransferRecord, type FileTransferStatus, type RecipientRecord, type RecipientStatus } from './state';
import { type Principal } from './tokens';
import { type CloudEvent, type CreateFileTransferInput } from './types';

/*
 * Altinn 3 Broker, the recipient side (altinn-api.md §5; altinn-broker FileTransferController and
 * handlers): list, overview, details, download (single Range) and confirm download, with an Altinn
 * or a raw Maskinporten token, and the no.altinn.broker.* events through the Events machinery.
 */

const READ = 'altinn:broker.read';
const WRITE = 'altinn:broker.write';

const fileTransferStatuses: FileTransferStatus[] = [
    'Initialized',
    'UploadStarted',
    'UploadProcessing',
    'Published',
    'Cancelled',
    'AllConfirmedDownloaded',
    'Purged',
    'Failed',
];
const recipientStatuses: RecipientStatus[] = ['Initialized', 'DownloadStarted', 'DownloadConfirmed'];

/**
 * altinn-broker src/Altinn.Broker.Application/Errors.cs: code, message and status. Answered as
 * ProblemDetails by API/Helpers/ProblemDetailsHelper.cs: RFC 9110 type and title, detail = the
 * message, `code` "BRO-{5 digits}" (Altinn.Authorization.ProblemDetails), traceId.
 */
const errors = {
    fileTransferNotFound: [1, 404, 'The requested file transfer was not found'],
    noAccessToResource: [
        6,
        401,
        'You must use a bearer token that represents a system user with access to the resource in the Resource Rights Registry',
    ],
    fileTransferNotAvailable: [
        7,
        403,
        "The requested file transfer's file is not ready for download. See file transfer status.",
    ],
    fileTransferNotPublished: [
        10,
        400,
        'A file transfer can only be confirmed to be downloaded when it is published. See file transfer status.',
    ],
    confirmDownloadBeforeDownloadStarted: [19, 400, 'Cannot confirm before the files have been downloaded'],
    invalidByteRange: [29, 416, 'The requested byte range is not satisfiable.'],
} as const satisfies Record<string, readonly [number, number, string]>;

function sendBrokerError(ctx: RequestContext, error: keyof typeof errors): void {
    const [code, status, message] = errors[error];
    sendProblem(ctx.res, status, message, { code: `BRO-${String(code).padStart(5, '0')}` });
}

/** DownloadFileHandler.RangedDownloadStatusDebounceWindow. */
const RANGED_DOWNLOAD_STATUS_DEBOUNCE_MS = 5 * 60 * 1000;

function withPrefix(orgNumber: string): string {
    return orgNumber.startsWith('0192:') ? orgNumber : `0192:${orgNumber}`;
}

function callerOf(principal: Principal): string | undefined {
    return principal.orgNumber ? withPrefix(principal.orgNumber) : undefined;
}

/** AltinnEventBus: one event per party, subject = that party's organisation URN, data.Role. */
export function publishBrokerEvent(
    core: SimCore,
    transfer: FileTransferRecord,
    type: string,
    party: string,
    role: 'Sender' | 'Recipient',
    deliver = true,
): CloudEvent {
    return core.publish(
        {
            source: `${core.origins.platformUrl}/broker/api/v1/filetransfer`,
            subject: `urn:altinn:organization:identifier-no:${party.replace(/^0192:/, '')}`,
            type: `no.altinn.broker.${type}`,
            resource: `urn:altinn:resource:${transfer.resourceId}`,
            resourceinstance: transfer.id,
            data: { Role: role },
        },
        deliver,
    );
}

export class FileTransferInputError extends Error {}

export async function createFileTransfer(
    core: SimCore,
    input: CreateFileTransferInput,
): Promise<{ transfer: FileTransferRecord; events: CloudEvent[] }> {
    if (!input.resourceId || !input.fileName || !Array.isArray(input.recipients) || input.recipients.length === 0) {
        throw new FileTransferInputError('A file transfer needs resourceId, fileName and at least one recipient');
    }
    const parties = [...input.recipients, input.sender ?? core.options.orgNumber];
    if (parties.some((p) => !/^(0192:)?\d{9}$/.test(p))) {
        throw new FileTransferInputError(
            'sender and recipients must be 9-digit organisation numbers, optionally 0192:-prefixed',
        );
    }
    const id = randomUUID();
    const content = contentFromInput(input, id);
    const now = new Date();
    const iso = now.toISOString();
    const transfer: FileTransferRecord = {
        id,
        resourceId: input.resourceId,
        fileName: input.fileName,
        content,
        sender: withPrefix(input.sender ?? core.options.orgNumber),
        recipients: input.recipients.map((r) => ({
            recipient: withPrefix(r),
            status: 'Initialized',
            changed: iso,
            history: [{ status: 'Initialized', changed: iso }],
        })),
        created: iso,
        published: iso,
        expirationTime: new Date(now.getTime() + 30 * 24 * 3600 * 1000).toISOString(),
        status: 'Published',
        statusChanged: iso,
        statusHistory: (['Initialized', 'UploadStarted', 'UploadProcessing', 'Published'] as const).map((status) => ({
            status,
            changed: iso,
        })),
        propertyList: { ...input.propertyList },
    };
    if (input.sendersFileTransferReference !== undefined) {
        transfer.sendersFileTransferReference = input.sendersFileTransferReference;
    }
    if (input.checksum !== false) {
        transfer.checksum = await digestContent(content, 'md5');
    }
    core.state.fileTransfers.set(id, transfer);
    const events: CloudEvent[] = [];
    if (input.publish !== false) {
        const deliver = input.deliver ?? true;
        events.push(publishBrokerEvent(core, transfer, 'published', transfer.sender, 'Sender', deliver));
        for (const r of transfer.recipients) {
            events.push(publishBrokerEvent(core, transfer, 'published', r.recipient, 'Recipient', deliver));
        }
    }
    return { transfer, events };
}

function parseEnum<T extends string>(values: T[], text: string | null): T | undefined | 'invalid' {
    if (text === null || text === '') {
        return undefined;
    }
    if (/^\d+$/.test(text)) {
        return values[Number(text)] ?? 'invalid';
    }
    return values.find((v) => v.toLowerCase() === text.toLowerCase()) ?? 'invalid';
}

function parseOffset(text: string | null): Date | undefined | 'invalid' {
    if (text === null || text === '') {
        return undefined;
    }
    const date = new Date(text);
    return Number.isNaN(date.getTime()) ? 'invalid' : date;
}

function parseBool(text: string | null): boolean | undefined | 'invalid' {
    if (text === null || text === '') {
        return undefined;
    }
    const lower = text.toLowerCase();
    return lower === 'true' ? true : lower === 'false' ? false : 'invalid';
}

/**
 * Resource rights are reduced to: a resource is registered in Broker when the simulator was started
 * with it or once a transfer was created on it, and every organisation may search it. AltinnAuthorizationService.CheckUserAccess
 * answers false for a resource Broker does not know, so the list answers 401 NoAccessToResource
 * before it could reach InvalidResourceDefinition (GetFileTransfersHandler).
 */
function knownResource(core: SimCore, resourceId: string): boolean {
    return (
        core.options.brokerResources.includes(resourceId) ||
        [...core.state.fileTransfers.values()].some((t) => t.resourceId === resourceId)
    );
}

/** Latest by timestamp (actor_file_transfer_latest_status, ActorFileTransferStatusRepository): what the list filters on. */
function latestStatus(recipient: RecipientRecord): RecipientStatus {
    return recipient.history[recipient.history.length - 1]?.status ?? recipient.status;
}

/** When the transfer last entered `status` (the LATERAL MAX(file_transfer_status_date) of FileTransferRepository). */
function statusDate(transfer: FileTransferRecord, status: FileTransferStatus): number | undefined {
    const dates = transfer.statusHistory.filter((h) => h.status === status).map((h) => Date.parse(h.changed));
    return dates.length > 0 ? Math.max(...dates) : undefined;
}

/*
 * GetFileTransfersHandler + FileTransferRepository.GetFileTransfersForRecipientWithRecipientStatus /
 * GetFileTransfersAssociatedWithActor: the sort date is when the transfer entered `status` (or its
 * creation without one); `from` alone is sort_date > from, `to` alone < to, both BETWEEN (inclusive);
 * ORDER BY sort_date DESC unless orderAscending=true; LIMIT 100.
 */
async function list(core: SimCore, ctx: RequestContext): Promise<void> {
    const principal = await authenticate(core, ctx, ['altinn', 'maskinporten']);
    if (!principal) {
        return;
    }
    if (!hasScope(principal, READ, WRITE)) {
        sendEmpty(ctx.res, 403);
        return;
    }
    const q = ctx.url.searchParams;
    const resourceId = q.get('resourceId');
    const status = parseEnum(fileTransferStatuses, q.get('status'));
    const recipientStatus = parseEnum(recipientStatuses, q.get('recipientStatus'));
    const role = parseEnum(['Recipient', 'Sender'], q.get('role'));
    const from = parseOffset(q.get('from'));
    const to = parseOffset(q.get('to'));
    const orderAscending = parseBool(q.get('orderAscending'));
    const invalid: Record<string, string[]> = {};
    if (!resourceId) invalid.resourceId = ['The resourceId field is required.'];
    for (const [name, value] of Object.entries({ status, recipientStatus, role, from, to, orderAscending })) {
        if (value === 'invalid') invalid[name] = [`The value '${q.get(name)}' is not valid.`];
    }
    if (!resourceId || Object.keys(invalid).length > 0) {
        sendValidationProblem(ctx.res, invalid);
        return;
    }
    const caller = callerOf(principal);
    if (!caller || !knownResource(core, resourceId)) {
        sendBrokerError(ctx, 'noAccessToResource');
        return;
    }
    const fileStatus = status === 'invalid' ? undefined : status;
    const sortDate = (t: FileTransferRecord): number | undefined =>
        fileStatus ? statusDate(t, fileStatus) : Date.parse(t.created);
    const inWindow = (date: number | undefined): boolean => {
        if (date === undefined) return false;
        const lower = from instanceof Date ? from.getTime() : undefined;
        const upper = to instanceof Date ? to.getTime() : undefined;
        if (lower !== undefined && upper !== undefined) return date >= lower && date <= upper;
        if (lower !== undefined) return date > lower;
        if (upper !== undefined) return date < upper;
        return true;
    };
    const asRecipient = (t: FileTransferRecord) =>
        t.recipients.some(
            (r) => r.recipient === caller && (recipientStatus ? latestStatus(r) === recipientStatus : true),
        );
    const matches = [...core.state.fileTransfers.values()]
        .map((t, order) => ({ t, order, date: sortDate(t) }))
        .filter(({ t }) => t.resourceId === resourceId)
        .filter(({ t }) => (fileStatus ? t.status === fileStatus : true))
        .filter(({ date }) => (from || to ? inWindow(date) : true))
        .filter(({ t }) =>
            // With a recipientStatus only the recipient query runs; otherwise role picks the UNION's halves.
            recipientStatus || role === 'Recipient'
                ? asRecipient(t)
                : role === 'Sender'
                  ? t.sender === caller
                  : t.sender === caller || asRecipient(t),
        );
    const direction = orderAscending === true ? 1 : -1;
    matches.sort((a, b) => direction * ((a.date ?? 0) - (b.date ?? 0) || a.order - b.order));
    sendJson(
        ctx.res,
        200,
        matches.slice(0, 100).map(({ t }) => t.id),
    );
}

async function lookup(
    core: SimCore,
    ctx: RequestContext,
    scopes: string[],
): Promise<{ transfer: FileTransferRecord; caller: string } | undefined> {
    const principal = await authenticate(core, ctx, ['altinn', 'maskinporten']);
    if (!principal) {
        return undefined;
    }
    if (!hasScope(principal, ...scopes)) {
        sendEmpty(ctx.res, 403);
        return undefined;
    }
    const transfer = core.state.fileTransfers.get(ctx.params.id.toLowerCase());
    if (!transfer) {
        sendBrokerError(ctx, 'fileTransferNotFound');
        return undefined;
    }
    const caller = callerOf(principal);
    if (!caller) {
        sendBrokerError(ctx, 'noAccessToResource');
        return undefined;
    }
    return { transfer, caller };
}

/** CheckAccessAsSenderOrRecipient failing is 401 NoAccessToResource (GetFileTransferOverviewHandler), not 404. */
async function overview(core: SimCore, ctx: RequestContext, details: boolean): Promise<void> {
    const found = await lookup(core, ctx, [READ, WRITE]);
    if (!found) {
        return;
    }
    const { transfer, caller } = found;
    if (transfer.sender !== caller && !transfer.recipients.some((r) => r.recipient === caller)) {
        sendBrokerError(ctx, 'noAccessToResource');
        return;
    }
    sendJson(ctx.res, 200, details ? fileTransferDetailsJson(transfer) : fileTransferOverviewJson(transfer));
}

/** ActorFileTransferStatusRepository.InsertActorFileTransferStatus: one more row, always. */
function addRecipientStatus(recipient: RecipientRecord, status: RecipientStatus): void {
    const now = new Date().toISOString();
    recipient.history.push({ status, changed: now });
    recipient.changed = now;
    if (recipientStatuses.indexOf(status) > recipientStatuses.indexOf(recipient.status)) {
        recipient.status = status;
    }
}

/** DownloadFileHandler, in its order: 404, 401 (not a recipient), 403 (not downloadable), 416, then the file. */
async function download(core: SimCore, ctx: RequestContext): Promise<void> {
    const found = await lookup(core, ctx, [READ]);
    if (!found) {
        return;
    }
    const { transfer, caller } = found;
    const recipient = transfer.recipients.find((r) => r.recipient === caller);
    if (!recipient) {
        sendBrokerError(ctx, 'noAccessToResource');
        return;
    }
    if (transfer.status !== 'Published' && transfer.status !== 'AllConfirmedDownloaded') {
        sendBrokerError(ctx, 'fileTransferNotAvailable');
        return;
    }
    const size = contentSize(transfer.content);
    const range = parseRange(ctx.req.headers.range, size);
    if (range === 'unsatisfiable') {
        // Problem(Errors.InvalidByteRange): a ProblemDetails body and no Content-Range header.
        sendBrokerError(ctx, 'invalidByteRange');
        return;
    }
    // A whole download always records DownloadStarted, even after a confirmation (latest by timestamp
    // then says DownloadStarted again); a ranged one at most once per 5 minutes per recipient.
    const now = Date.now();
    if (!range || now - (recipient.rangedDownloadStartedAt ?? -Infinity) >= RANGED_DOWNLOAD_STATUS_DEBOUNCE_MS) {
        addRecipientStatus(recipient, 'DownloadStarted');
        if (range) recipient.rangedDownloadStartedAt = now;
    }
    ctx.contentKey = transfer.id;
    const headers: Record<string, string | number> = {
        'Content-Type': 'application/octet-stream',
        'Accept-Ranges': 'bytes',
    };
    const disposition = contentDisposition(transfer.fileName);
    if (disposition) {
        headers['Content-Disposition'] = disposition;
    }
    if (range) {
        headers['Content-Range'] = `bytes ${range.start}-${range.end - 1}/${size}`;
        headers['Content-Length'] = range.end - range.start;
        await streamBody(ctx.res, 206, headers, openContent(transfer.content, range.start, range.end));
    } else {
        headers['Content-Length'] = size;
        await streamBody(ctx.res, 200, headers, openContent(transfer.content));
    }
}

/*
 * ConfirmDownloadHandler, in its order: 404, 401 (not a recipient), 400 FileTransferNotPublished
 * (any status but Published, so also AllConfirmedDownloaded: a repeat after the last recipient
 * confirmed is refused; the idempotency key was removed in 2025), 204 when this recipient already
 * confirmed (others still to go), 400 before a download, else confirm.
 */
async function confirm(core: SimCore, ctx: RequestContext): Promise<void> {
    const found = await lookup(core, ctx, [READ]);
    if (!found) {
        return;
    }
    const { transfer, caller } = found;
    const recipient = transfer.recipients.find((r) => r.recipient === caller);
    if (!recipient) {
        sendBrokerError(ctx, 'noAccessToResource');
        return;
    }
    if (transfer.status !== 'Published') {
        sendBrokerError(ctx, 'fileTransferNotPublished');
        return;
    }
    if (recipient.status === 'DownloadConfirmed') {
        sendEmpty(ctx.res, 204);
        return;
    }
    if (recipient.status !== 'DownloadStarted') {
        sendBrokerError(ctx, 'confirmDownloadBeforeDownloadStarted');
        return;
    }
    publishBrokerEvent(core, transfer, 'downloadconfirmed', caller, 'Recipient');
    publishBrokerEvent(core, transfer, 'downloadconfirmed', transfer.sender, 'Sender');
    addRecipientStatus(recipient, 'DownloadConfirmed');
    if (transfer.recipients.every((r) => r.status === 'DownloadConfirmed')) {
        publishBrokerEvent(core, transfer, 'allconfirmeddownloaded', transfer.sender, 'Sender');
        const now = new Date().toISOString();
        transfer.status = 'AllConfirmedDownloaded';
        transfer.statusChanged = now;
        transfer.statusHistory.push({ status: 'AllConfirmedDownloaded', changed: now });
    }
    // Ok(null) is turned into 204 No Content by ASP.NET.
    sendEmpty(ctx.res, 204);
}

export function brokerRoutes(core: SimCore): RouteDefinition[] {
    const base = '/broker/api/v1/filetransfer';
    return [
        { listener: 'platform', method: 'GET', path: base, endpoint: 'broker.list', handler: (ctx) => list(core, ctx) },
        {
            listener: 'platform',
            method: 'GET',
            path: `${base}/{id:guid}`,
            endpoint: 'broker.overview',
            handler: (ctx) => overview(core, ctx, false),
        },
        {
            listener: 'platform',
            method: 'GET',
            path: `${base}/{id:guid}/details`,
            endpoint: 'broker.details',
            handler: (ctx) => overview(core, ctx, true),
        },
        {
            listener: 'platform',
            method: 'GET',
            path: `${base}/{id:guid}/download`,
            endpoint: 'broker.download',
            handler: (ctx) => download(core, ctx),
        },
        {
            listener: 'platform',
            method: 'POST',
            path: `${base}/{id:guid}/confirmdownload`,
            endpoint: 'broker.confirm',
            handler: (ctx) => confirm(core, ctx),
        },
    ];
}
