/**
 * The HTTP front door, shaped like `func start`: `http://127.0.0.1:<port>/<routePrefix>/<route>`
 * with the route template of each HTTP function (its name when it has none), its methods, and
 * 404 for anything else (also for a known route with another method, as the host does).
 *
 * Keys: like func, keys are not enforced by default. When the app setting LocalHostFunctionKey
 * is set, functions with authLevel function or admin require `?code=<key>` or the
 * `x-functions-key` header (401 otherwise); anonymous functions stay open.
 *
 * Two ways to hand the request to the library, chosen by the app: normally as RPC http typed
 * data (body buffered, up to FUNCTIONS_REQUEST_BODY_SIZE_LIMIT, default 100 MB); when the app
 * called `app.setup({ enableHttpStream: true })`, by forwarding the raw request to the
 * library's own HTTP proxy (its `HttpUri` capability), exactly as the host does, so request and
 * response bodies stream.
 *
 * Admin API (never key-protected unless LocalHostFunctionKey is set): `GET /admin/host/status`,
 * and `POST /admin/functions/<name>` with `{"input": "..."}` to run a timer or queue function
 * now (202 Accepted), like the host's "run a non-HTTP function manually".
 */
import { randomUUID } from 'node:crypto';
// net.Server#listen requires these on first use (listenInCluster: node:cluster, and with it
// child_process and dgram; lookupAndListen: node:dns). Loaded with the host's own modules, they are
// part of the host's start-up: otherwise the listen after the app has loaded costs less when the app
// happens to have loaded them itself (the unbundled build, through @azure/identity and undici), and
// bench/coldStart.ts would charge the host's work to the build that does not.
import 'node:cluster';
import 'node:dns';
import {
    createServer,
    request as httpRequest,
    type IncomingMessage,
    type Server,
    type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FunctionDefinition, HttpTriggerSpec } from './functions';
import { httpTriggerMetadata, toRpcHttpRequest, writeRpcHttpResponse } from './httpRpc';
import type { Invoker } from './invoker';
import { errorMessage, type HostLog } from './log';
import { compareRoutes, matchRoute } from './routes';

export interface HttpServerOptions {
    readonly port: number;
    readonly hostname: string;
    readonly routePrefix: string;
    /** LocalHostFunctionKey; undefined means keys are not checked. */
    readonly functionKey: string | undefined;
    readonly bodyLimitBytes: number;
    /** The library's HTTP proxy when the app enabled HTTP streaming. */
    readonly streamProxyUri: string | undefined;
    readonly hostId: string;
    /** Runs a non-HTTP function now, for the admin API; resolves once it has started. */
    readonly runManually: (fn: FunctionDefinition, input: string) => boolean;
}

interface HttpRoute {
    readonly fn: FunctionDefinition;
    readonly spec: HttpTriggerSpec;
}

const hostApiReason = 'This function was programmatically called via the host APIs.';
/** How long to wait for the streamed response after a streaming function returned nothing. */
const streamResponseGraceMs = 2_000;

export class HttpServer {
    readonly #routes: HttpRoute[];
    readonly #functions: readonly FunctionDefinition[];
    readonly #server: Server;
    /** Responses not yet finished: shutdown waits for them before dropping connections. */
    readonly #active = new Set<ServerResponse>();
    #closing = false;
    #port = 0;

    constructor(
        functions: readonly FunctionDefinition[],
        private readonly invoker: Invoker,
        private readonly log: HostLog,
        private readonly options: HttpServerOptions,
    ) {
        this.#functions = functions;
        this.#routes = functions
            .flatMap((fn) => (fn.trigger.kind === 'http' ? [{ fn, spec: fn.trigger }] : []))
            .sort((a, b) => compareRoutes(a.spec.route, b.spec.route));
        this.#server = createServer((req, res) => {
            if (this.#closing) {
                req.resume();
                return void res.writeHead(503, { 'content-length': '0', connection: 'close' }).end();
            }
            this.#active.add(res);
            res.on('close', () => this.#active.delete(res));
            this.handle(req, res).catch((error: unknown) => {
                this.log.line(`HTTP request ${req.method} ${req.url} failed in the host: ${errorMessage(error)}`);
                if (!res.headersSent) res.writeHead(500, { 'content-length': '0' });
                res.end();
            });
        });
        // Uploads of up to 100 MB may be slow; the function, not the socket, decides how long it runs.
        this.#server.requestTimeout = 0;
    }

    get port(): number {
        return this.#port;
    }

    get baseUrl(): string {
        return `http://${this.options.hostname}:${this.#port}`;
    }

    /** The URL func would print for an HTTP function (route parameters left as templates). */
    urlFor(spec: HttpTriggerSpec): string {
        const prefix = this.options.routePrefix ? `/${this.options.routePrefix}` : '';
        const route = spec.route.template.replace(/^~?\/+/, '');
        return `${this.baseUrl}${prefix}/${route}`;
    }

    async listen(): Promise<number> {
        await new Promise<void>((resolve, reject) => {
            this.#server.once('error', reject);
            this.#server.listen(this.options.port, this.options.hostname, () => {
                this.#server.off('error', reject);
                resolve();
            });
        });
        this.#port = (this.#server.address() as AddressInfo).port;
        return this.#port;
    }

    /**
     * Stops accepting requests (new ones on open connections get 503), lets the responses in
     * progress finish for up to `timeoutMs`, then drops every connection left.
     */
    async close(timeoutMs: number): Promise<void> {
        this.#closing = true;
        const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
        this.#server.closeIdleConnections();
        const deadline = Date.now() + timeoutMs;
        while (this.#active.size > 0 && Date.now() < deadline) {
            await new Promise((resolve) => setTimeout(resolve, 20));
        }
        this.#server.closeAllConnections();
        await closed;
    }

    private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
        const url = new URL(req.url ?? '/', `http://${req.headers.host ?? `${this.options.hostname}:${this.#port}`}`);
        const method = (req.method ?? 'GET').toUpperCase();
        const path = url.pathname;

        if (/^\/admin(\/|$)/i.test(path)) return this.handleAdmin(req, res, url, method);
        if (path === '/' && (method === 'GET' || method === 'HEAD')) {
            return void res
                .writeHead(200, { 'content-type': 'text/plain; charset=utf-8' })
                .end(method === 'HEAD' ? undefined : 'Your Functions 4.0 app is up and running (local host).\n');
        }

        const routePath = this.stripPrefix(path);
        const found = routePath === undefined ? undefined : this.findRoute(routePath, method);
        if (!found) return notFound(req, res);
        const { route, params } = found;

        if (!this.authorized(route.spec, req, url)) {
            req.resume();
            return void res.writeHead(401, { 'content-length': '0' }).end();
        }

        if (this.options.streamProxyUri) return this.invokeStreaming(route.fn, req, res, url, params);

        const body = await readBody(req, this.options.bodyLimitBytes);
        if (body === undefined) return tooLarge(res, this.options.bodyLimitBytes);
        const outcome = await this.invoker.invoke(route.fn, {
            reason: hostApiReason,
            inputData: [{ name: route.fn.triggerBindingName, data: toRpcHttpRequest(req, url, params, body) }],
            triggerMetadata: httpTriggerMetadata(req, url, params),
        });
        if (!outcome.succeeded || !outcome.response) {
            return void res.writeHead(500, { 'content-length': '0' }).end();
        }
        const outputName = route.fn.httpOutputName;
        const data =
            outputName === '$return'
                ? outcome.response.returnValue
                : outcome.response.outputData?.find((binding) => binding.name === outputName)?.data;
        writeRpcHttpResponse(res, data, method === 'HEAD');
    }

    private stripPrefix(path: string): string | undefined {
        const prefix = this.options.routePrefix;
        if (!prefix) return path;
        const lowerPath = path.toLowerCase();
        const lowerPrefix = `/${prefix.toLowerCase()}`;
        if (lowerPath === lowerPrefix) return '';
        if (lowerPath.startsWith(`${lowerPrefix}/`)) return path.slice(lowerPrefix.length + 1);
        return undefined;
    }

    private findRoute(path: string, method: string): { route: HttpRoute; params: Record<string, string> } | undefined {
        for (const route of this.#routes) {
            const params = matchRoute(route.spec.route, path);
            if (params && route.spec.methods.includes(method)) return { route, params };
        }
        return undefined;
    }

    private authorized(spec: HttpTriggerSpec, req: IncomingMessage, url: URL): boolean {
        const key = this.options.functionKey;
        if (key === undefined || spec.authLevel === 'anonymous') return true;
        return url.searchParams.get('code') === key || req.headers['x-functions-key'] === key;
    }

    /**
     * HTTP streaming: the invocation waits in the library for the proxied request carrying its
     * invocation id, and the library writes the response to the proxied connection.
     */
    private async invokeStreaming(
        fn: FunctionDefinition,
        req: IncomingMessage,
        res: ServerResponse,
        url: URL,
        params: Record<string, string>,
    ): Promise<void> {
        const declared = Number(req.headers['content-length'] ?? 0);
        if (declared > this.options.bodyLimitBytes) return tooLarge(res, this.options.bodyLimitBytes);
        const invocationId = randomUUID();
        const proxyUrl = new URL(`${url.pathname}${url.search}`, this.options.streamProxyUri);
        const headers = { ...req.headers };
        delete headers.connection;
        delete headers['keep-alive'];
        const forwarded = httpRequest(proxyUrl, {
            method: req.method,
            headers: {
                ...headers,
                host: proxyUrl.host,
                'x-ms-invocation-id': invocationId,
                'x-forwarded-host': req.headers.host ?? `${this.options.hostname}:${this.#port}`,
                'x-forwarded-proto': 'http',
            },
        });
        const responded = new Promise<boolean>((resolve) => {
            forwarded.on('response', (proxyRes) => {
                const responseHeaders = { ...proxyRes.headers };
                delete responseHeaders['x-ms-invocation-id'];
                delete responseHeaders.connection;
                delete responseHeaders['keep-alive'];
                res.writeHead(proxyRes.statusCode ?? 500, responseHeaders);
                proxyRes.pipe(res);
                proxyRes.on('end', () => resolve(true));
                proxyRes.on('error', () => resolve(true));
            });
            forwarded.on('error', () => resolve(false));
        });
        let received = 0;
        req.on('data', (chunk: Buffer) => {
            received += chunk.length;
            if (received > this.options.bodyLimitBytes) forwarded.destroy(new Error('request body too large'));
        });
        req.pipe(forwarded);

        const outcome = await this.invoker.invoke(fn, {
            invocationId,
            reason: hostApiReason,
            inputData: [{ name: fn.triggerBindingName, data: { http: {} } }],
            triggerMetadata: httpTriggerMetadata(req, url, params),
        });
        if (!outcome.succeeded) {
            forwarded.destroy();
            if (!res.headersSent) res.writeHead(500, { 'content-length': '0' });
            res.end();
            return;
        }
        let timer: NodeJS.Timeout | undefined;
        const delivered = await Promise.race([
            responded,
            new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), streamResponseGraceMs))),
        ]);
        clearTimeout(timer);
        if (!delivered && !res.headersSent) {
            // The function returned no response, so the library wrote none: an empty 200, as without streaming.
            forwarded.destroy();
            res.writeHead(200, { 'content-length': '0' }).end();
        }
    }

    private async handleAdmin(req: IncomingMessage, res: ServerResponse, url: URL, method: string): Promise<void> {
        const key = this.options.functionKey;
        if (key !== undefined && url.searchParams.get('code') !== key && req.headers['x-functions-key'] !== key) {
            req.resume();
            return void res.writeHead(401, { 'content-length': '0' }).end();
        }
        if (url.pathname.toLowerCase() === '/admin/host/status' && method === 'GET') {
            req.resume();
            return json(res, 200, { id: this.options.hostId, state: 'Running', processUptime: process.uptime() });
        }
        const match = /^\/admin\/functions\/([^/]+)$/i.exec(url.pathname);
        if (match && method === 'POST') {
            const name = decodeURIComponent(match[1]).toLowerCase();
            const fn = this.#functions.find((candidate) => candidate.name.toLowerCase() === name);
            const body = await readBody(req, 1024 * 1024);
            if (!fn) return notFound(req, res);
            if (body === undefined) return tooLarge(res, 1024 * 1024);
            let input: string;
            try {
                const parsed = body.length > 0 ? (JSON.parse(body.toString('utf8')) as { input?: unknown }) : {};
                input = typeof parsed.input === 'string' ? parsed.input : JSON.stringify(parsed.input ?? '');
            } catch {
                return json(res, 400, { error: 'The body must be JSON like {"input": "..."}.' });
            }
            if (!this.options.runManually(fn, input)) {
                return json(res, 400, { error: `Function '${fn.name}' cannot be run through the admin API.` });
            }
            return void res.writeHead(202, { 'content-length': '0' }).end();
        }
        return notFound(req, res);
    }
}

/**
 * The body, or undefined when it exceeds the limit. Reading stops there without destroying the
 * request, so that the 413 answer still reaches the client.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
    if (Number(req.headers['content-length'] ?? 0) > limit) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let settled = false;
        req.on('data', (chunk: Buffer) => {
            if (settled) return;
            size += chunk.length;
            if (size > limit) {
                settled = true;
                req.pause();
                resolve(undefined);
                return;
            }
            chunks.push(chunk);
        });
        req.on('end', () => {
            if (settled) return;
            settled = true;
            resolve(Buffer.concat(chunks));
        });
        req.on('error', (error) => {
            if (settled) return;
            settled = true;
            reject(error);
        });
    });
}

function notFound(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    res.writeHead(404, { 'content-length': '0' }).end();
}

function tooLarge(res: ServerResponse, limit: number): void {
    // The unread rest of the body would keep the connection busy: close it after answering.
    const body = `Request body too large (limit ${limit} bytes, FUNCTIONS_REQUEST_BODY_SIZE_LIMIT).`;
    res.writeHead(413, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }).end(body);
}

function json(res: ServerResponse, status: number, value: unknown): void {
    const body = JSON.stringify(value);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(body);
}
