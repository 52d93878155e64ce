/**
 * Converts between Node's HTTP objects and the RPC http typed data the worker exchanges with
 * the host (RpcHttpData): the request goes in as `{http: {method, url, headers, query, params,
 * body}}`, and the library's `toRpcHttp` hands the response back as `{http: {statusCode,
 * headers, cookies, body}}`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RpcHttpCookie, RpcHttpData, RpcTypedData } from './coreTypes';

/** Request headers as one string per name (repeated headers joined, as the host does). */
export function headerRecord(req: IncomingMessage): Record<string, string> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
        if (value === undefined) continue;
        headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    return headers;
}

export function queryRecord(url: URL): Record<string, string> {
    const query: Record<string, string> = {};
    for (const key of new Set(url.searchParams.keys())) {
        query[key] = url.searchParams.getAll(key).join(',');
    }
    return query;
}

export function toRpcHttpRequest(
    req: IncomingMessage,
    url: URL,
    params: Record<string, string>,
    body: Buffer,
): RpcTypedData {
    const http: RpcHttpData = {
        method: req.method ?? 'GET',
        url: url.toString(),
        headers: headerRecord(req),
        query: queryRecord(url),
        params,
        body: body.length > 0 ? { bytes: body } : undefined,
    };
    return { http };
}

/** Trigger metadata of an HTTP invocation; the library reads it only with HTTP streaming on. */
export function httpTriggerMetadata(
    req: IncomingMessage,
    url: URL,
    params: Record<string, string>,
): Record<string, RpcTypedData> {
    const metadata: Record<string, RpcTypedData> = {
        Headers: { json: JSON.stringify(headerRecord(req)) },
        Query: { json: JSON.stringify(queryRecord(url)) },
    };
    for (const [name, value] of Object.entries(params)) metadata[name] = { string: value };
    return metadata;
}

const droppedResponseHeaders = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive']);

/** Writes the function's RPC http response; undefined (no response set) is an empty 200, as in the host. */
export function writeRpcHttpResponse(res: ServerResponse, data: RpcTypedData | null | undefined, head: boolean): void {
    const http = data?.http;
    if (!http) {
        res.writeHead(200, { 'content-length': '0' }).end();
        return;
    }
    const status = Number(http.statusCode ?? 200);
    res.statusCode = Number.isInteger(status) && status >= 100 && status <= 999 ? status : 500;
    for (const [name, value] of Object.entries(http.headers ?? {})) {
        if (!droppedResponseHeaders.has(name.toLowerCase())) res.setHeader(name, value);
    }
    const cookies = (http.cookies ?? []).map(serializeCookie);
    if (cookies.length > 0) {
        const existing = res.getHeader('set-cookie');
        const before = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
        res.setHeader('set-cookie', [...before, ...cookies]);
    }
    if (res.statusCode === 204 || res.statusCode === 304) {
        res.end();
        return;
    }
    const body = bodyBytes(http.body);
    res.setHeader('content-length', body.length);
    res.end(head ? undefined : body);
}

function bodyBytes(body: RpcTypedData | null | undefined): Buffer {
    if (!body) return Buffer.alloc(0);
    if (body.bytes) return Buffer.from(body.bytes);
    if (body.string !== undefined && body.string !== null) return Buffer.from(body.string, 'utf8');
    if (body.json !== undefined && body.json !== null) return Buffer.from(body.json, 'utf8');
    return Buffer.alloc(0);
}

/** A Set-Cookie value from the RPC cookie (RFC 6265 attribute names). */
export function serializeCookie(cookie: RpcHttpCookie): string {
    const parts = [`${cookie.name ?? ''}=${cookie.value ?? ''}`];
    if (cookie.domain?.value) parts.push(`Domain=${cookie.domain.value}`);
    if (cookie.path?.value) parts.push(`Path=${cookie.path.value}`);
    const seconds = cookie.expires?.value?.seconds;
    if (seconds !== undefined && seconds !== null) parts.push(`Expires=${new Date(seconds * 1000).toUTCString()}`);
    if (cookie.maxAge?.value !== undefined && cookie.maxAge.value !== null)
        parts.push(`Max-Age=${cookie.maxAge.value}`);
    if (cookie.secure?.value) parts.push('Secure');
    if (cookie.httpOnly?.value) parts.push('HttpOnly');
    if (cookie.sameSite === 'lax') parts.push('SameSite=Lax');
    if (cookie.sameSite === 'strict') parts.push('SameSite=Strict');
    if (cookie.sameSite === 'explicitNone') parts.push('SameSite=None');
    return parts.join('; ');
}
