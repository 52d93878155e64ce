/**
 * Altinn 3 Broker ("filetransfer") (altinn-api.md §5): for a recipient list, overview, download
 * (single Range) and confirm download; for a sender initialize and upload (streamed). Every call
 * goes through the one Altinn HTTP client, so tokens, retries and the origin rule are the same as
 * everywhere else. Broker needs altinn:broker.read (receiving) and altinn:broker.write (sending)
 * in MaskinportenScopes (the token provider asks for all configured scopes at once, and the
 * exchange copies them into the Altinn token).
 */
import type { Readable } from 'node:stream';
import type { AppConfig } from '../config';
import type { StepLogger } from '../log';
import { AltinnHttpError, type ProblemBody } from './errors';
import type { AltinnHttp, AltinnRequest, AltinnResponse, AltinnTokenProvider } from './http';
import { decodeJwtClaims } from './jwt';

export const BROKER_READ_SCOPE = 'altinn:broker.read';
export const BROKER_WRITE_SCOPE = 'altinn:broker.write';

/** FileTransferStatusExt, as Broker's JsonStringEnumConverter writes it. */
export type FileTransferStatus =
    | 'Initialized'
    | 'UploadStarted'
    | 'UploadProcessing'
    | 'Published'
    | 'Cancelled'
    | 'AllConfirmedDownloaded'
    | 'Purged'
    | 'Failed';

/** RecipientFileTransferStatusExt. */
export type RecipientFileTransferStatus = 'Initialized' | 'DownloadStarted' | 'DownloadConfirmed';

export interface FileTransferRecipient {
    /** e.g. "0192:991825827" */
    recipient: string;
    /** A RecipientFileTransferStatus; typed string since Broker may add values. */
    currentRecipientFileTransferStatusCode: string;
    currentRecipientFileTransferStatusText?: string;
    currentRecipientFileTransferStatusChanged?: string;
}

/** FileTransferOverviewExt (camelCase). Only the fields this system relies on are typed strictly. */
export interface FileTransferOverview {
    fileTransferId: string;
    resourceId: string;
    fileName: string;
    fileTransferSize: number;
    /** A FileTransferStatus; typed string since Broker may add values. */
    fileTransferStatus: string;
    /** MD5 of the file as lowercase hex, when the sender gave one (or Broker computed it); null otherwise. */
    checksum?: string | null;
    sendersFileTransferReference?: string | null;
    sender?: string;
    recipients: FileTransferRecipient[];
    /** When the transfer was published (ISO time). */
    published?: string | null;
    [field: string]: unknown;
}

/** The overview, parsed, and the response body exactly as Broker sent it (stored as filetransfer.json). */
export interface OverviewResponse {
    overview: FileTransferOverview;
    raw: string;
}

export interface ListQuery {
    resourceId: string;
    status?: FileTransferStatus;
    recipientStatus?: RecipientFileTransferStatus;
    /** Oldest first; Broker's default is newest first. */
    orderAscending?: boolean;
    /** Only transfers that entered `status` after this instant (exclusive; their creation without a status). */
    from?: Date;
    /** Only those where we are the recipient, or the sender (GetFileTransfersAssociatedWithActor); default both. */
    role?: 'Recipient' | 'Sender';
}

/** FileTransferInitalizeExt (API/Models/FileTransferInitializeExt.cs). */
export interface InitializeRequest {
    fileName: string;
    resourceId: string;
    sendersFileTransferReference: string;
    /** "0192:{orgnr}" or "urn:altinn:organization:identifier-no:{orgnr}". */
    sender: string;
    recipients: string[];
    propertyList: Record<string, string>;
    /** MD5, lowercase hex (MD5ChecksumAttribute refuses upper case). */
    checksum?: string;
    disableVirusScan?: boolean;
}

/**
 * Broker answers at most this many ids per list call: the newest, or with orderAscending the oldest
 * (GetFileTransfersHandler; FileTransferRepository: ORDER BY sort_date {ASC|DESC} LIMIT 100).
 */
export const BROKER_LIST_LIMIT = 100;

export interface CallOptions {
    logger?: StepLogger;
    signal?: AbortSignal;
}

export interface BrokerClient {
    /** `{platform}/broker/api/v1/filetransfer`: the base of every call, and the `source` of Broker's events. */
    readonly fileTransferBase: string;
    /** GET /filetransfer?resourceId=…: file transfer ids (at most 100). A 401 NoAccessToResource is not retried with a fresh token. */
    list(query: ListQuery, options?: CallOptions): Promise<string[]>;
    /** GET /filetransfer/{id}. */
    overview(fileTransferId: string, options?: CallOptions): Promise<OverviewResponse>;
    /** GET /filetransfer/{id}/download, from `offset` on (Range: bytes={offset}-) when offset > 0. */
    download(fileTransferId: string, offset: number, options?: CallOptions): Promise<AltinnResponse>;
    /**
     * POST /filetransfer/{id}/confirmdownload; resolves with the (2xx) status. Not idempotent once the
     * transfer is AllConfirmedDownloaded: a repeat then answers 400 FileTransferNotPublished.
     */
    confirmDownload(fileTransferId: string, options?: CallOptions): Promise<number>;
    /**
     * POST /filetransfer: resolves with the new file transfer id. Never repeated by the client: a
     * repeat would make a second transfer (the caller finds a lost answer's transfer by listing).
     */
    initialize(request: InitializeRequest, options?: CallOptions): Promise<string>;
    /**
     * POST /filetransfer/{id}/upload with the file as `body` (application/octet-stream, Content-Length
     * `size`), streamed, never repeated. Broker allows it while the transfer is Initialized or UploadStarted.
     */
    upload(fileTransferId: string, body: Readable, size: number, options?: CallOptions): Promise<void>;
}

/**
 * Broker's Errors.NoAccessToResource (code 6): its answer, as ProblemDetails with status 401, when the
 * caller is not party to the transfer or has no rights on the resource (AltinnAuthorizationService).
 * A token Broker does not accept gets the JwtBearer challenge instead: 401 with an empty body.
 */
export const NO_ACCESS_TO_RESOURCE_CODE = 'BRO-00006';
const NO_ACCESS_TO_RESOURCE_DETAIL =
    'You must use a bearer token that represents a system user with access to the resource';

export function isNoAccessProblem(problem: ProblemBody | undefined): boolean {
    if (!problem) return false;
    return (
        problem.code === NO_ACCESS_TO_RESOURCE_CODE ||
        (typeof problem.detail === 'string' && problem.detail.startsWith(NO_ACCESS_TO_RESOURCE_DETAIL))
    );
}

/** Broker's error code ("BRO-00009", …: Application/Errors.cs) of a refused call, when it gave one. */
export function brokerErrorCode(error: unknown): string | undefined {
    const code = error instanceof AltinnHttpError ? error.problem?.code : undefined;
    return typeof code === 'string' ? code : undefined;
}

/** A Broker call refused because this organisation may not see the transfer or resource: retrying cannot help. */
export function isNoAccessToResource(error: unknown): boolean {
    return error instanceof AltinnHttpError && error.status === 401 && isNoAccessProblem(error.problem);
}

/** A Broker answer this system cannot use (not JSON of the documented shape). Not transient. */
export class BrokerResponseError extends Error {
    readonly transient = false;
    constructor(message: string) {
        super(message);
        this.name = 'BrokerResponseError';
    }
}

export function fileTransferBase(config: Pick<AppConfig, 'platformBaseUrl'>): string {
    return `${config.platformBaseUrl}/broker/api/v1/filetransfer`;
}

export function createBrokerClient(http: AltinnHttp, config: Pick<AppConfig, 'platformBaseUrl'>): BrokerClient {
    const base = fileTransferBase(config);
    const item = (id: string) => `${base}/${encodeURIComponent(id)}`;

    return {
        fileTransferBase: base,

        async list(query, options = {}) {
            const url = new URL(base);
            url.searchParams.set('resourceId', query.resourceId);
            // Query enums bind case-insensitively in ASP.NET; send the names Broker itself writes.
            if (query.status) url.searchParams.set('status', query.status);
            if (query.recipientStatus) url.searchParams.set('recipientStatus', query.recipientStatus);
            if (query.orderAscending !== undefined)
                url.searchParams.set('orderAscending', String(query.orderAscending));
            if (query.from) url.searchParams.set('from', query.from.toISOString());
            if (query.role) url.searchParams.set('role', query.role);
            const ids = await http.getJson<unknown>(url, withHints(options));
            if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) {
                throw new BrokerResponseError(`GET ${base} did not answer a JSON array of file transfer ids`);
            }
            return ids;
        },

        async overview(fileTransferId, options = {}) {
            const url = item(fileTransferId);
            const { text } = await http.requestText({
                url,
                method: 'GET',
                headers: { accept: 'application/json' },
                maxBytes: 1024 * 1024,
                ...withHints(options),
            });
            return { overview: parseOverview(text, url), raw: text };
        },

        download(fileTransferId, offset, options = {}) {
            const headers: Record<string, string> = { accept: 'application/octet-stream' };
            if (offset > 0) headers.range = `bytes=${offset}-`;
            return http.stream(`${item(fileTransferId)}/download`, { headers, ...withHints(options) });
        },

        async confirmDownload(fileTransferId, options = {}) {
            const { status } = await http.requestText({
                url: `${item(fileTransferId)}/confirmdownload`,
                method: 'POST',
                // A repeat is answered like the first call while the transfer is Published; once it is
                // AllConfirmedDownloaded it is a 400, which the caller resolves by reading the overview.
                retryable: true,
                body: '',
                ...withHints(options),
            });
            return status;
        },

        async initialize(request, options = {}) {
            const { json } = await http.requestJson<{ fileTransferId?: unknown }>({
                url: base,
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify(request),
                retryable: false,
                ...withHints(options),
            });
            const id = json?.fileTransferId;
            if (typeof id !== 'string' || !GUID.test(id)) {
                throw new BrokerResponseError(`POST ${base} did not answer a fileTransferId`);
            }
            return id.toLowerCase();
        },

        async upload(fileTransferId, body, size, options = {}) {
            await http.requestText({
                url: `${item(fileTransferId)}/upload`,
                method: 'POST',
                headers: {
                    'content-type': 'application/octet-stream',
                    'content-length': String(size),
                    accept: 'application/json',
                },
                body,
                ...withHints(options),
            });
        },
    };
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function withHints(options: CallOptions): CallOptions & Pick<AltinnRequest, 'isAccessRefusal'> {
    return {
        isAccessRefusal: isNoAccessProblem,
        ...(options.logger ? { logger: options.logger } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
    };
}

export function parseOverview(text: string, url = 'the file transfer overview'): FileTransferOverview {
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch {
        throw new BrokerResponseError(`${url}: the overview is not valid JSON`);
    }
    const o = value as Partial<FileTransferOverview> | null;
    const problems: string[] = [];
    if (!o || typeof o !== 'object' || Array.isArray(o)) throw new BrokerResponseError(`${url}: not a JSON object`);
    if (typeof o.fileTransferId !== 'string') problems.push('fileTransferId');
    if (typeof o.resourceId !== 'string') problems.push('resourceId');
    if (typeof o.fileName !== 'string') problems.push('fileName');
    if (typeof o.fileTransferSize !== 'number' || !Number.isSafeInteger(o.fileTransferSize) || o.fileTransferSize < 0)
        problems.push('fileTransferSize');
    if (typeof o.fileTransferStatus !== 'string') problems.push('fileTransferStatus');
    if (o.checksum !== undefined && o.checksum !== null && typeof o.checksum !== 'string') problems.push('checksum');
    if (!Array.isArray(o.recipients)) problems.push('recipients');
    if (problems.length) {
        throw new BrokerResponseError(`${url}: the overview lacks or mistypes ${problems.join(', ')}`);
    }
    return o as FileTransferOverview;
}

/** Digits of an organisation number, from "0192:991825827", "991825827" or the event subject URN. */
export function organisationNumberOf(text: string | undefined): string | undefined {
    if (!text) return undefined;
    const match = /^(?:urn:altinn:organization:identifier-no:|0192:)?(\d{9})$/.exec(text.trim());
    return match?.[1];
}

/** The status Broker holds for this recipient, or undefined when the overview does not list it. */
export function recipientStatusOf(
    overview: FileTransferOverview,
    organisationNumber: string | undefined,
): string | undefined {
    if (!organisationNumber) return undefined;
    return overview.recipients.find((r) => organisationNumberOf(r.recipient) === organisationNumber)
        ?.currentRecipientFileTransferStatusCode;
}

/**
 * The organisation the Altinn token speaks for (its `urn:altinn:orgNumber` claim): Broker decides
 * who the caller is from the token, so this is "us" as Broker sees it. Read without verifying:
 * it is our own token, fresh from the exchange.
 */
export async function callerOrganisationNumber(tokens: AltinnTokenProvider): Promise<string | undefined> {
    const claims = decodeJwtClaims(await tokens.getAltinnToken());
    const value = claims?.['urn:altinn:orgNumber'];
    return typeof value === 'string' ? organisationNumberOf(value) : undefined;
}

/**
 * Who this system is to Broker: BrokerOrgNumber when set, else the organisation of our own
 * Altinn token. Never an event's subject (shared/broker/event.ts says why).
 */
export async function ourOrganisationNumber(
    configured: string | undefined,
    tokens: AltinnTokenProvider | undefined,
): Promise<string | undefined> {
    return configured ?? (tokens ? await callerOrganisationNumber(tokens) : undefined);
}
