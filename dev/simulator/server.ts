import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { type SimCore } from './core';
import { sendEmpty, sendJson, sendProblem, send } from './http';
import { type RequestContext, type Router } from './router';
import { type Fault, type Listener } from './types';

/*
 * One node:http server per listener. Each request is routed to an endpoint name, counted, and
 * subjected to injected faults (latency, status, socket reset, truncated body) before its handler.
 */

type WriteFn = (chunk: unknown, encoding?: unknown, callback?: unknown) => boolean;
type EndFn = (chunk?: unknown, encoding?: unknown, callback?: unknown) => ServerResponse;

function toBuffer(chunk: unknown, encoding: unknown): Buffer {
    if (Buffer.isBuffer(chunk)) return chunk;
    if (chunk instanceof Uint8Array) return Buffer.from(chunk);
    return Buffer.from(String(chunk), typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
}

/**
 * Counts body bytes as they are written and, for a truncation fault, lets exactly `limit` bytes
 * through (after headers that promised more) and then destroys the socket.
 */
function tapResponse(res: ServerResponse, onBytes: (n: number) => void, limit?: number): void {
    const write = res.write.bind(res) as WriteFn;
    const end = res.end.bind(res) as EndFn;
    let sent = 0;
    let cut = false;
    const cutNow = (): void => {
        cut = true;
        res.socket?.destroy();
    };
    const pass = (buffer: Buffer, last: boolean): boolean => {
        if (cut) {
            return false;
        }
        let part = buffer;
        let cutAfter = false;
        if (limit !== undefined && sent + buffer.length > limit) {
            part = buffer.subarray(0, Math.max(0, limit - sent));
            cutAfter = true;
        }
        sent += part.length;
        if (part.length > 0) {
            onBytes(part.length);
        }
        if (cutAfter) {
            if (part.length > 0) {
                write(part, () => cutNow());
            } else {
                cutNow();
            }
            return false;
        }
        if (last) {
            end(part.length > 0 ? part : undefined);
            return true;
        }
        return write(part);
    };
    res.write = ((chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
        const ok = pass(toBuffer(chunk, encoding), false);
        const cb = typeof encoding === 'function' ? encoding : callback;
        if (typeof cb === 'function') process.nextTick(cb);
        return ok;
    }) as typeof res.write;
    res.end = ((chunk?: unknown, encoding?: unknown, callback?: unknown): ServerResponse => {
        if (chunk !== undefined && chunk !== null && typeof chunk !== 'function') {
            pass(toBuffer(chunk, encoding), true);
        } else if (!cut) {
            end();
        }
        const cb = [chunk, encoding, callback].find((x) => typeof x === 'function');
        if (typeof cb === 'function') res.once('finish', cb as () => void);
        return res;
    }) as typeof res.end;
}

function delay(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

function sendFault(res: ServerResponse, fault: Fault): void {
    const headers: Record<string, string | number> = {};
    if (fault.retryAfterSeconds !== undefined) {
        headers['Retry-After'] = Math.round(fault.retryAfterSeconds);
    }
    const status = fault.status ?? 500;
    if (fault.body === undefined) {
        sendEmpty(res, status, headers);
    } else if (typeof fault.body === 'string') {
        send(res, status, fault.body, fault.contentType ?? 'text/plain; charset=utf-8', headers);
    } else {
        sendJson(res, status, fault.body, headers, fault.contentType ?? 'application/json; charset=utf-8');
    }
}

async function handle(
    core: SimCore,
    router: Router,
    listener: Listener,
    req: IncomingMessage,
    res: ServerResponse,
): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator.invalid');
    const match = router.match(listener, req.method ?? 'GET', url.pathname);
    const endpoint =
        match.kind === 'found' ? match.route.endpoint : match.kind === 'methodNotAllowed' ? match.endpoint : 'unknown';
    const counted = endpoint !== 'sim';
    const ctx: RequestContext = {
        req,
        res,
        url,
        params: match.kind === 'found' ? match.params : {},
        listener,
        endpoint,
    };
    if (req.headers.authorization) {
        core.counters.authorization(listener);
    }
    let finished = false;
    const record = (status: string): void => {
        if (!finished) {
            finished = true;
            if (counted) core.counters.request(endpoint, status);
            core.log(`${listener} ${req.method} ${url.pathname}${url.search} -> ${status} (${endpoint})`);
        }
    };
    res.on('finish', () => record(String(res.statusCode)));
    res.on('close', () => record(res.headersSent ? String(res.statusCode) : 'reset'));

    const fault = counted && match.kind !== 'notFound' ? core.faults.take(endpoint, url.pathname) : undefined;
    tapResponse(res, (n) => counted && core.counters.bodyBytes(endpoint, ctx.contentKey, n), fault?.truncateAfterBytes);
    if (fault) {
        core.counters.fault(endpoint);
        if (fault.latencyMs) {
            await delay(fault.latencyMs);
            // The latency stands for the network before the service: a client gone meanwhile never reached it.
            if (req.destroyed) {
                return;
            }
        }
        if (fault.reset) {
            req.socket.destroy();
            return;
        }
        if (fault.status !== undefined) {
            req.resume();
            sendFault(res, fault);
            return;
        }
    }
    if (match.kind === 'notFound') {
        sendEmpty(res, 404);
    } else if (match.kind === 'methodNotAllowed') {
        sendEmpty(res, 405);
    } else {
        await match.route.handler(ctx);
    }
    // Anything the handler did not read is drained, so the client never sees a reset while still sending.
    if (!req.readableEnded) {
        req.resume();
    }
}

export interface RunningListener {
    server: Server;
    url: string;
}

export async function listen(
    core: SimCore,
    router: Router,
    listener: Listener,
    host: string,
    port: number,
): Promise<RunningListener> {
    const server = createServer((req, res) => {
        handle(core, router, listener, req, res).catch((err: unknown) => {
            core.log(`${listener} ${req.method} ${req.url} failed: ${(err as Error).stack ?? String(err)}`);
            if (!res.headersSent) {
                sendProblem(res, 500, (err as Error).message);
            } else {
                res.destroy();
            }
        });
    });
    // Large streams to slow readers must not be cut by Node's default request timeout.
    server.requestTimeout = 0;
    await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
            server.off('error', reject);
            resolve();
        });
    });
    const address = server.address() as AddressInfo;
    const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return { server, url: `http://${hostPart}:${address.port}` };
}

export async function close(server: Server): Promise<void> {
    await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
    });
}
