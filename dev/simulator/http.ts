import { randomBytes } from 'node:crypto';
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { pipeline, type Readable } from 'node:stream';

/*
 * Response helpers that reproduce what the ASP.NET Core services behind Altinn put on the wire:
 * ProblemDetails bodies, JSON-quoted strings from `StatusCode(code, "message")`, and the
 * StringOutputFormatter rule that sends a bare string as text/plain unless JSON was asked for.
 */

export const JSON_UTF8 = 'application/json; charset=utf-8';
export const PROBLEM_UTF8 = 'application/problem+json; charset=utf-8';

export class BodyTooLargeError extends Error {
    constructor(readonly received: number) {
        super(`Request body larger than allowed (${received} bytes read)`);
    }
}

/** Reads the whole request body, refusing (and draining nothing more than) `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of req) {
        const buffer = chunk as Buffer;
        total += buffer.length;
        if (total > limit) {
            throw new BodyTooLargeError(total);
        }
        chunks.push(buffer);
    }
    return Buffer.concat(chunks);
}

/** Parses a JSON request body; undefined for an empty body, SyntaxError for malformed JSON. */
export async function readJson(req: IncomingMessage, limit = 1024 * 1024): Promise<unknown> {
    const body = await readBody(req, limit);
    if (body.length === 0) {
        return undefined;
    }
    return JSON.parse(body.toString('utf8')) as unknown;
}

export function send(
    res: ServerResponse,
    status: number,
    body: Buffer | string | undefined,
    contentType?: string,
    headers: Record<string, string | number> = {},
): void {
    const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
    const all: Record<string, string | number> = { ...headers };
    if (payload !== undefined && contentType) {
        all['Content-Type'] = contentType;
    }
    all['Content-Length'] = payload?.length ?? 0;
    res.writeHead(status, all);
    res.end(payload);
}

export function sendJson(
    res: ServerResponse,
    status: number,
    value: unknown,
    headers: Record<string, string | number> = {},
    contentType = JSON_UTF8,
): void {
    send(res, status, JSON.stringify(value), contentType, headers);
}

export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string | number> = {}): void {
    send(res, status, undefined, undefined, headers);
}

/** `StatusCode(code, "message")` on a controller with [Produces("application/json")]: a JSON-quoted string. */
export function sendJsonString(res: ServerResponse, status: number, message: string): void {
    sendJson(res, status, message);
}

/**
 * A bare string result without [Produces]: ASP.NET's StringOutputFormatter answers text/plain
 * unless the Accept header names JSON, in which case the JSON formatter quotes it.
 */
export function sendNegotiatedString(req: IncomingMessage, res: ServerResponse, status: number, text: string): void {
    const accept = (req.headers.accept ?? '').toLowerCase();
    if (/application\/([\w.+-]*\+)?json/.test(accept)) {
        sendJson(res, status, text);
    } else {
        send(res, status, text, 'text/plain; charset=utf-8');
    }
}

const problemTypes: Record<number, [string, string]> = {
    400: ['https://tools.ietf.org/html/rfc9110#section-15.5.1', 'Bad Request'],
    401: ['https://tools.ietf.org/html/rfc9110#section-15.5.2', 'Unauthorized'],
    403: ['https://tools.ietf.org/html/rfc9110#section-15.5.4', 'Forbidden'],
    404: ['https://tools.ietf.org/html/rfc9110#section-15.5.5', 'Not Found'],
    405: ['https://tools.ietf.org/html/rfc9110#section-15.5.6', 'Method Not Allowed'],
    409: ['https://tools.ietf.org/html/rfc9110#section-15.5.10', 'Conflict'],
    410: ['https://tools.ietf.org/html/rfc9110#section-15.5.11', 'Gone'],
    413: ['https://tools.ietf.org/html/rfc9110#section-15.5.14', 'Content Too Large'],
    415: ['https://tools.ietf.org/html/rfc9110#section-15.5.16', 'Unsupported Media Type'],
    416: ['https://tools.ietf.org/html/rfc9110#section-15.5.17', 'Range Not Satisfiable'],
    500: ['https://tools.ietf.org/html/rfc9110#section-15.6.1', 'An error occurred while processing your request.'],
    503: ['https://tools.ietf.org/html/rfc9110#section-15.6.4', 'Service Unavailable'],
};

export function traceId(): string {
    return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-00`;
}

/** `ControllerBase.Problem(detail, statusCode)`: type, title, status, detail and traceId from the factory. */
export function sendProblem(
    res: ServerResponse,
    status: number,
    detail?: string,
    extra: Record<string, unknown> = {},
): void {
    const [type, title] = problemTypes[status] ?? ['about:blank', 'Error'];
    const body: Record<string, unknown> = { type, title, status };
    if (detail !== undefined) {
        body.detail = detail;
    }
    sendJson(res, status, { ...body, ...extra, traceId: traceId() }, {}, PROBLEM_UTF8);
}

/** `new ProblemDetails { Title, Detail, Status }` returned through StatusCode(): only what the code set. */
export function sendPlainProblem(res: ServerResponse, status: number, title: string, detail: string): void {
    sendJson(res, status, { title, status, detail }, {}, PROBLEM_UTF8);
}

/** The automatic 400 of [ApiController] model validation (ValidationProblemDetails). */
export function sendValidationProblem(res: ServerResponse, errors: Record<string, string[]>): void {
    sendJson(
        res,
        400,
        {
            type: 'https://tools.ietf.org/html/rfc9110#section-15.5.1',
            title: 'One or more validation errors occurred.',
            status: 400,
            errors,
            traceId: traceId(),
        },
        {},
        PROBLEM_UTF8,
    );
}

/** JwtBearer's challenge: 401, empty body, WWW-Authenticate. */
export function sendUnauthorized(res: ServerResponse, error?: string): void {
    sendEmpty(res, 401, { 'WWW-Authenticate': error ? `Bearer error="${error}"` : 'Bearer' });
}

/** The ASCII fallback and RFC 5987 form that ASP.NET's File(stream, type, name) writes. */
export function contentDisposition(filename: string | undefined, type = 'attachment'): string | undefined {
    if (filename === undefined || filename === '') {
        return undefined;
    }
    const ascii = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
    const quoted = /[\s;,()<>@:/[\]?={}]/.test(ascii) ? `"${ascii}"` : ascii;
    const star = encodeURIComponent(filename).replace(
        /['()*]/g,
        (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
    );
    return `${type}; filename=${quoted}; filename*=UTF-8''${star}`;
}

/** The filename a client put in Content-Disposition (filename* wins, as in ContentDispositionHeaderValue). */
export function filenameFromContentDisposition(header: string | undefined): string | undefined {
    if (!header) {
        return undefined;
    }
    const star = /filename\*\s*=\s*([^']*)'[^']*'([^;]+)/i.exec(header);
    if (star) {
        try {
            return decodeURIComponent(star[2].trim());
        } catch {
            // fall through to the plain parameter
        }
    }
    const plain = /filename\s*=\s*("([^"]*)"|[^;]+)/i.exec(header);
    if (!plain) {
        return undefined;
    }
    return (plain[2] ?? plain[1]).trim();
}

export function bearerToken(req: IncomingMessage): string | undefined {
    const header = req.headers.authorization;
    if (!header) {
        return undefined;
    }
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    return match ? match[1].trim() : undefined;
}

export function isLoopbackHost(hostname: string): boolean {
    const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
    return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export function mediaType(req: IncomingMessage): string | undefined {
    const value = req.headers['content-type'];
    return value ? value.split(';')[0].trim().toLowerCase() : undefined;
}

/** Writes the head, then pipes the stream with backpressure; resolves when done or when the client went away. */
export function streamBody(
    res: ServerResponse,
    status: number,
    headers: Record<string, string | number>,
    body: Readable,
): Promise<void> {
    res.writeHead(status, headers);
    return new Promise((resolve) => {
        pipeline(body, res, () => resolve());
    });
}
