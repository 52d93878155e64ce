import { randomUUID } from 'node:crypto';
import { authenticate, hasScope } from './authentication';
import { contentFromInput, contentSize, digestContent, openContent, parseRange } from './content';
import { type SimCore } from './core';
import { contentDisposition, sendEmpty, sendJson, sendProblem, sendValidationProblem, streamBody } from './http';
import { fileTransferDetailsJson, fileTransferOverviewJson } from './models';
import { type RequestContext, type RouteDefinition } from './router';
import { type FileTransferRecord, type FileTransferStatus, type RecipientStatus } from './state';
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

// Errors.cs
const NOT_FOUND = 'The requested file transfer was not found';
const NO_ACCESS =
    'You must use a bearer token that represents a system user with access to the resource in the Resource Rights Registry';
const NOT_AVAILABLE = "The requested file transfer's file is not ready for download. See file transfer status.";
const NOT_PUBLISHED =
    'A file transfer can only be confirmed to be downloaded when it is published. See file transfer status.';
const CONFIRM_BEFORE_DOWNLOAD = 'Cannot confirm before the files have been downloaded';

function withPrefix(orgNumber: string): string {
    return orgNumber.startsWith('0192:') ? orgNumber : `0192:${orgNumber}`;
}

function callerOf(principal: Principal): string | undefined {
    return principal.orgNumber ? withPrefix(principal.orgNumber) : undefined;
}

/** AltinnEventBus: one event per party, subject = that party's organisation URN, data.Role. */
function publishBrokerEvent(
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
    const from = parseOffset(q.get('from'));
    const to = parseOffset(q.get('to'));
    const errors: Record<string, string[]> = {};
    if (!resourceId) errors.resourceId = ['The resourceId field is required.'];
    if (status === 'invalid') errors.status = [`The value '${q.get('status')}' is not valid.`];
    if (recipientStatus === 'invalid')
        errors.recipientStatus = [`The value '${q.get('recipientStatus')}' is not valid.`];
    if (from === 'invalid') errors.from = [`The value '${q.get('from')}' is not valid.`];
    if (to === 'invalid') errors.to = [`The value '${q.get('to')}' is not valid.`];
    if (Object.keys(errors).length > 0) {
        sendValidationProblem(ctx.res, errors);
        return;
    }
    const caller = callerOf(principal);
    if (!caller) {
        sendProblem(ctx.res, 401, NO_ACCESS);
        return;
    }
    const matches = [...core.state.fileTransfers.values()]
        .filter((t) => t.resourceId === resourceId)
        .filter((t) => (status ? t.status === status : true))
        .filter((t) => (from && from !== 'invalid' ? Date.parse(t.created) >= from.getTime() : true))
        .filter((t) => (to && to !== 'invalid' ? Date.parse(t.created) <= to.getTime() : true))
        .filter((t) =>
            recipientStatus
                ? t.recipients.some((r) => r.recipient === caller && r.status === recipientStatus)
                : t.sender === caller || t.recipients.some((r) => r.recipient === caller),
        );
    // "you will only receive the 100 last created"
    sendJson(
        ctx.res,
        200,
        matches.slice(-100).map((t) => t.id),
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
        sendProblem(ctx.res, 404, NOT_FOUND);
        return undefined;
    }
    const caller = callerOf(principal);
    if (!caller) {
        sendProblem(ctx.res, 401, NO_ACCESS);
        return undefined;
    }
    return { transfer, caller };
}

async function overview(core: SimCore, ctx: RequestContext, details: boolean): Promise<void> {
    const found = await lookup(core, ctx, [READ, WRITE]);
    if (!found) {
        return;
    }
    const { transfer, caller } = found;
    if (transfer.sender !== caller && !transfer.recipients.some((r) => r.recipient === caller)) {
        sendProblem(ctx.res, 404, NOT_FOUND);
        return;
    }
    sendJson(ctx.res, 200, details ? fileTransferDetailsJson(transfer) : fileTransferOverviewJson(transfer));
}

function setRecipientStatus(transfer: FileTransferRecord, caller: string, status: RecipientStatus): void {
    const recipient = transfer.recipients.find((r) => r.recipient === caller);
    if (!recipient) {
        return;
    }
    const now = new Date().toISOString();
    recipient.history.push({ status, changed: now });
    if (recipientStatuses.indexOf(status) > recipientStatuses.indexOf(recipient.status)) {
        recipient.status = status;
        recipient.changed = now;
    }
}

async function download(core: SimCore, ctx: RequestContext): Promise<void> {
    const found = await lookup(core, ctx, [READ]);
    if (!found) {
        return;
    }
    const { transfer, caller } = found;
    if (transfer.status !== 'Published' && transfer.status !== 'AllConfirmedDownloaded') {
        sendProblem(ctx.res, 403, NOT_AVAILABLE);
        return;
    }
    if (!transfer.recipients.some((r) => r.recipient === caller)) {
        sendProblem(ctx.res, 404, NOT_FOUND);
        return;
    }
    const size = contentSize(transfer.content);
    const range = parseRange(ctx.req.headers.range, size);
    if (range === 'unsatisfiable') {
        sendEmpty(ctx.res, 416, { 'Content-Range': `bytes */${size}`, 'Accept-Ranges': 'bytes' });
        return;
    }
    setRecipientStatus(transfer, caller, 'DownloadStarted');
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

async function confirm(core: SimCore, ctx: RequestContext): Promise<void> {
    const found = await lookup(core, ctx, [READ]);
    if (!found) {
        return;
    }
    const { transfer, caller } = found;
    const recipient = transfer.recipients.find((r) => r.recipient === caller);
    if (!recipient) {
        sendProblem(ctx.res, 401, NO_ACCESS);
        return;
    }
    // The controller's idempotency key (confirmDownload_{id}_{caller}) answers a repeat like the first call.
    if (recipient.status === 'DownloadConfirmed') {
        sendEmpty(ctx.res, 204);
        return;
    }
    if (transfer.status !== 'Published') {
        sendProblem(ctx.res, 400, NOT_PUBLISHED);
        return;
    }
    if (recipient.status !== 'DownloadStarted') {
        sendProblem(ctx.res, 400, CONFIRM_BEFORE_DOWNLOAD);
        return;
    }
    publishBrokerEvent(core, transfer, 'downloadconfirmed', caller, 'Recipient');
    publishBrokerEvent(core, transfer, 'downloadconfirmed', transfer.sender, 'Sender');
    setRecipientStatus(transfer, caller, 'DownloadConfirmed');
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
