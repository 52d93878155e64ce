import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AltinnHttpError, type ProblemBody } from '../../../shared/altinn/errors';
import { createAltinnHttp, type AltinnHttp, type AltinnTokenProvider } from '../../../shared/altinn/http';
import { ForeignOriginError } from '../../../shared/altinn/origins';
import { json, startServer, type Handler, type TestServer } from './server';

const servers: TestServer[] = [];
const clients: AltinnHttp[] = [];

afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
    await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(handler: Handler): Promise<TestServer> {
    const server = await startServer(handler);
    servers.push(server);
    return server;
}

/** A token provider that hands out token-1, and token-2 after a forced refresh. */
function tokens() {
    const calls: { forceRefresh?: boolean; rejectedToken?: string }[] = [];
    let generation = 1;
    const provider: AltinnTokenProvider = {
        getAltinnToken: (options = {}) => {
            calls.push(options);
            if (options.forceRefresh) generation++;
            return Promise.resolve(`token-${generation}`);
        },
    };
    return { provider, calls };
}

function client(
    server: TestServer,
    overrides: { httpTimeoutMs?: number; httpRetryBudgetMs?: number } = {},
    provider: AltinnTokenProvider = tokens().provider,
): AltinnHttp {
    const config = {
        platformBaseUrl: server.origin,
        appsBaseUrl: server.origin,
        maskinporten: { baseUrl: server.origin },
        httpTimeoutMs: 1000,
        httpRetryBudgetMs: 3000,
        ...overrides,
    };
    const http = createAltinnHttp(config, provider, { backoff: { baseDelayMs: 20, maxDelayMs: 200 } });
    clients.push(http);
    return http;
}

async function failure(promise: Promise<unknown>): Promise<AltinnHttpError> {
    const error = await promise.then(
        () => undefined,
        (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AltinnHttpError);
    return error as AltinnHttpError;
}

/** Answers the listed statuses in turn, then 200 with {ok: true}. */
function sequence(...statuses: (number | [number, Record<string, string>])[]): Handler {
    return (_request, response, _body, index) => {
        const step = statuses[index];
        if (step === undefined) return json(response, 200, { ok: true });
        const [status, headers] = Array.isArray(step) ? step : [step, {}];
        json(response, status, { title: `status ${status}` }, headers);
    };
}

describe('retries', () => {
    it('retries 503 and then returns the JSON', async () => {
        const server = await serve(sequence(503));
        await expect(client(server).getJson(`${server.origin}/x`)).resolves.toEqual({ ok: true });
        expect(server.requests).toHaveLength(2);
    });

    it('retries 502 and 504', async () => {
        const server = await serve(sequence(502, 504));
        await expect(client(server).getJson(`${server.origin}/x`)).resolves.toEqual({ ok: true });
        expect(server.requests).toHaveLength(3);
    });

    it('waits as long as a 429 Retry-After says', async () => {
        const server = await serve(sequence([429, { 'retry-after': '1' }]));
        const started = Date.now();
        await client(server).getJson(`${server.origin}/x`);
        expect(Date.now() - started).toBeGreaterThanOrEqual(950);
        expect(server.requests).toHaveLength(2);
    });

    it('honours Retry-After as an HTTP date', async () => {
        const at = new Date(Date.now() + 2000).toUTCString(); // second precision: 1-2 s from now
        const server = await serve(sequence([503, { 'retry-after': at }]));
        const started = Date.now();
        await client(server).getJson(`${server.origin}/x`);
        expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    });

    it('gives up at once when Retry-After is beyond the budget, and says how long to wait', async () => {
        const server = await serve(sequence([429, { 'retry-after': '120' }]));
        const started = Date.now();
        const error = await failure(client(server).getJson(`${server.origin}/x`));
        expect(Date.now() - started).toBeLessThan(500);
        expect(error).toMatchObject({ status: 429, transient: true, retryAfterMs: 120_000, attempts: 1 });
        expect(server.requests).toHaveLength(1);
    });

    it('retries a reset connection', async () => {
        const server = await serve((request, response, _body, index) => {
            if (index === 0) request.socket.destroy();
            else json(response, 200, { ok: true });
        });
        await expect(client(server).getJson(`${server.origin}/x`)).resolves.toEqual({ ok: true });
        expect(server.requests).toHaveLength(2);
    });

    it('retries a body that stalls longer than the timeout', async () => {
        const server = await serve((_request, response, _body, index) => {
            response.writeHead(200, { 'content-type': 'application/json' });
            if (index === 0)
                response.write('{"ok":'); // and then nothing
            else response.end('{"ok":true}');
        });
        const started = Date.now();
        await expect(client(server, { httpTimeoutMs: 300 }).getJson(`${server.origin}/x`)).resolves.toEqual({
            ok: true,
        });
        expect(Date.now() - started).toBeGreaterThanOrEqual(280);
        expect(server.requests).toHaveLength(2);
    });

    it('throws a transient AltinnHttpError when the budget is used up', async () => {
        const server = await serve((_request, response) => json(response, 503, { title: 'Service Unavailable' }));
        const started = Date.now();
        const error = await failure(client(server, { httpRetryBudgetMs: 800 }).getJson(`${server.origin}/x?a=1`));
        expect(Date.now() - started).toBeLessThan(800 + 500);
        expect(error).toMatchObject({ status: 503, transient: true, method: 'GET', url: `${server.origin}/x?a=1` });
        expect(error.attempts).toBeGreaterThan(2);
        expect(error.attempts).toBe(server.requests.length);
        expect(error.message).toMatch(/retry budget of 800 ms used up; Service Unavailable/);
    });

    it('does not retry a 400 and reports its problem details', async () => {
        const server = await serve((_request, response) =>
            json(
                response,
                400,
                { title: 'Bad Request', detail: 'dataType is unknown' },
                {
                    'content-type': 'application/problem+json',
                },
            ),
        );
        const error = await failure(client(server).getJson(`${server.origin}/x`));
        expect(error).toMatchObject({ status: 400, transient: false, attempts: 1 });
        expect(error.problem).toMatchObject({ title: 'Bad Request', detail: 'dataType is unknown' });
        expect(error.message).toContain('dataType is unknown');
        expect(server.requests).toHaveLength(1);
    });

    it('does not retry a POST unless the caller marks it retryable', async () => {
        const once = await serve(sequence(503));
        const error = await failure(
            client(once).requestText({ method: 'POST', url: `${once.origin}/data`, body: 'x' }),
        );
        expect(error).toMatchObject({ status: 503, transient: true });
        expect(once.requests).toHaveLength(1);

        const twice = await serve(sequence(503));
        await client(twice).requestText({ method: 'POST', url: `${twice.origin}/complete`, retryable: true, body: '' });
        expect(twice.requests).toHaveLength(2);
    });

    it('retries even a POST when the connection was refused, since nothing was sent', async () => {
        const server = await serve(sequence());
        const http = client(server, { httpRetryBudgetMs: 400 });
        await server.close();
        const error = await failure(http.requestText({ method: 'POST', url: `${server.origin}/data`, body: 'x' }));
        expect(error).toMatchObject({ code: 'ECONNREFUSED', transient: true });
        expect(error.attempts).toBeGreaterThan(1);
    });

    it('keeps query secrets out of the error', async () => {
        const server = await serve((_request, response) => json(response, 404, {}));
        const error = await failure(client(server).getJson(`${server.origin}/x?code=hunter2&dataType=a`));
        expect(error.url).toBe(`${server.origin}/x?code=***&dataType=a`);
        expect(error.message).not.toContain('hunter2');
    });
});

describe('tokens and origins', () => {
    it('sends the Altinn token, and after a 401 refreshes it once and tries again', async () => {
        const server = await serve(sequence(401));
        const { provider, calls } = tokens();
        await expect(client(server, {}, provider).getJson(`${server.origin}/x`)).resolves.toEqual({ ok: true });
        expect(server.requests.map((r) => r.headers.authorization)).toEqual(['Bearer token-1', 'Bearer token-2']);
        expect(calls.filter((call) => call.forceRefresh)).toEqual([{ forceRefresh: true, rejectedToken: 'token-1' }]);
    });

    it('refreshes only once when the new token is refused too', async () => {
        const server = await serve((_request, response) => json(response, 401, {}));
        const { provider, calls } = tokens();
        const error = await failure(client(server, {}, provider).getJson(`${server.origin}/x`));
        expect(error).toMatchObject({ status: 401, transient: false });
        expect(server.requests).toHaveLength(2);
        expect(calls.filter((call) => call.forceRefresh)).toHaveLength(1);
    });

    it('throws a 401 the caller recognises as an access decision at once, and still refreshes for any other 401', async () => {
        const decision = { status: 401, code: 'BRO-00006', detail: 'no access' };
        const refusal = await serve((_request, response) => json(response, 401, decision));
        const { provider, calls } = tokens();
        const isAccessRefusal = (problem: ProblemBody | undefined) => problem?.code === 'BRO-00006';
        const error = await failure(client(refusal, {}, provider).getJson(`${refusal.origin}/x`, { isAccessRefusal }));
        expect(error).toMatchObject({ status: 401, transient: false, attempts: 1, problem: decision });
        expect(refusal.requests).toHaveLength(1);
        expect(calls.filter((call) => call.forceRefresh)).toEqual([]);

        const challenge = await serve(sequence(401));
        const second = tokens();
        const http = client(challenge, {}, second.provider);
        await expect(http.getJson(`${challenge.origin}/x`, { isAccessRefusal })).resolves.toEqual({ ok: true });
        expect(second.calls.filter((call) => call.forceRefresh)).toHaveLength(1);
    });

    it('refuses a foreign origin before connecting or asking for a token', async () => {
        const server = await serve(sequence());
        const foreign = await serve(sequence());
        const { provider, calls } = tokens();
        const http = client(server, {}, provider);
        await expect(http.getJson(`${foreign.origin}/storage/x`)).rejects.toThrow(ForeignOriginError);
        await expect(http.stream(`${foreign.origin}/storage/x`)).rejects.toThrow(ForeignOriginError);
        expect(() => http.assertAllowedOrigin(`${foreign.origin}/x`)).toThrow(ForeignOriginError);
        expect(foreign.connections).toBe(0);
        expect(calls).toHaveLength(0);
    });

    it('sends no token with auth: none', async () => {
        const server = await serve(sequence());
        await client(server).requestText({ url: `${server.origin}/x`, auth: 'none' });
        expect(server.requests[0].headers.authorization).toBeUndefined();
    });
});

describe('streaming and pooling', () => {
    it('hands over the body as a stream before the server has finished sending it', async () => {
        let finish: () => void = () => undefined;
        const server = await serve((_request, response) => {
            response.writeHead(200, { 'content-type': 'application/octet-stream' });
            response.write(Buffer.alloc(64 * 1024, 1));
            finish = () => response.end(Buffer.alloc(64 * 1024, 2));
        });
        const response = await client(server).stream(`${server.origin}/data`);
        expect(response.status).toBe(200);
        expect(response.headers['content-type']).toBe('application/octet-stream');
        let bytes = 0;
        const counting = new Writable({
            write(chunk: Buffer, _encoding, done) {
                bytes += chunk.length;
                if (bytes === 64 * 1024) finish();
                done();
            },
        });
        await pipeline(response.body, counting);
        expect(bytes).toBe(128 * 1024);
    });

    it('hands a 404 back when the caller allows it', async () => {
        const server = await serve((_request, response) => json(response, 404, { title: 'Not Found' }));
        const response = await client(server).stream(`${server.origin}/data`, { allowStatus: [404] });
        expect(response.status).toBe(404);
        response.body.destroy();
    });

    it('errors the stream when the body stalls mid-download', async () => {
        const server = await serve((_request, response) => {
            response.writeHead(200);
            response.write('first part');
        });
        const response = await client(server, { httpTimeoutMs: 300 }).stream(`${server.origin}/data`);
        await expect(pipeline(response.body, new Writable({ write: (_c, _e, done) => done() }))).rejects.toMatchObject({
            code: 'UND_ERR_BODY_TIMEOUT',
        });
    });

    it('refuses a buffered body over maxBytes, and reads only the start of a large error body', async () => {
        const server = await serve((_request, response, _body, index) => {
            response.writeHead(index === 0 ? 200 : 400, { 'content-type': 'text/plain' });
            response.end(Buffer.alloc(5 * 1024 * 1024, 'A'));
        });
        const http = client(server);
        const tooLarge = await failure(http.requestText({ url: `${server.origin}/a`, maxBytes: 1000 }));
        expect(tooLarge).toMatchObject({ status: 200, transient: false });
        expect(tooLarge.message).toMatch(/larger than 1000 bytes/);
        const badRequest = await failure(http.requestText({ url: `${server.origin}/a` }));
        expect(badRequest.bodyText?.length).toBeLessThanOrEqual(300);
    });

    it('opens at most 16 connections to one origin', async () => {
        const server = await serve((_request, response) => setTimeout(() => json(response, 200, {}), 100));
        const http = client(server);
        await Promise.all(Array.from({ length: 40 }, () => http.getJson(`${server.origin}/x`)));
        expect(server.requests).toHaveLength(40);
        expect(server.maxOpenConnections).toBeLessThanOrEqual(16);
        expect(server.connections).toBeLessThanOrEqual(16);
    });
});
