import { request } from 'node:http';
import { HttpControlClient } from '../../../dev/simulator/controlClient';
import { ENDPOINT_NAMES } from '../../../dev/simulator/faults';
import { type Simulator } from '../../../dev/simulator/simulator';
import { type CreatedInstance } from '../../../dev/simulator/types';
import {
    bearer,
    clientRegistration,
    maskinportenToken,
    postGrant,
    sharedClientCredentials,
    signGrant,
    startReceiver,
    startTestSimulator,
    waitUntil,
    SERVICEOWNER_SCOPES,
} from '../../support/simulator';

/* Fault injection on every endpoint, the counters, and the HTTP control API. */

// Generous: RSA key generation and real sockets are slow on a loaded machine.
jest.setTimeout(30_000);

let sim: Simulator;
let token: string;
let instance: CreatedInstance;

beforeAll(async () => {
    sim = await startTestSimulator();
});

beforeEach(async () => {
    await sim.control.reset();
    token = await sim.control.issueAltinnToken({
        scopes: [...SERVICEOWNER_SCOPES, 'altinn:broker.read', 'altinn:events.subscribe'],
    });
    instance = await sim.control.createInstance({
        app: 'fault-app',
        dataElements: [
            { dataType: 'a', contentType: 'text/plain', content: 'hello world', filename: 'a.txt' },
            { dataType: 'b', size: 1_000_000, seed: 'b' },
        ],
    });
});

afterAll(() => sim.stop());

/** Raw GET that reports the status and how many body bytes arrived before the connection ended. */
function rawGet(
    url: string,
    headers: Record<string, string> = {},
): Promise<{ status: number; contentLength: number; received: number; error?: string }> {
    return new Promise((resolve, reject) => {
        const req = request(url, { headers, agent: false }, (res) => {
            let received = 0;
            res.on('data', (c: Buffer) => (received += c.length));
            const done = (error?: string) =>
                resolve({
                    status: res.statusCode ?? 0,
                    contentLength: Number(res.headers['content-length']),
                    received,
                    ...(error ? { error } : {}),
                });
            res.on('end', () => done());
            res.on('aborted', () => done('aborted'));
            res.on('error', (err) => done(err.message));
        });
        req.on('error', reject);
        req.end();
    });
}

describe('fault modes', () => {
    it('answers an injected status with a JSON body and Retry-After, `times` times', async () => {
        await sim.control.addFault({
            endpoint: 'apps.getInstance',
            status: 429,
            body: { error: 'slow down' },
            retryAfterSeconds: 3,
            times: 2,
        });
        for (let i = 0; i < 2; i++) {
            const response = await fetch(instance.url, { headers: bearer(token) });
            expect(response.status).toBe(429);
            expect(response.headers.get('retry-after')).toBe('3');
            expect(await response.json()).toEqual({ error: 'slow down' });
        }
        expect((await fetch(instance.url, { headers: bearer(token) })).status).toBe(200);
        const counters = sim.counters();
        expect(counters.requests['apps.getInstance']).toEqual({ '429': 2, '200': 1 });
        expect(counters.faultsApplied['apps.getInstance']).toBe(2);
        expect((await sim.control.listFaults())[0].hits).toBe(2);
    });

    it('answers a text body with its content type', async () => {
        await sim.control.addFault({
            endpoint: 'storage.getData',
            status: 503,
            body: '<html>busy</html>',
            contentType: 'text/html',
        });
        const response = await fetch(instance.dataElements[0].platformUrl, { headers: bearer(token) });
        expect(response.status).toBe(503);
        expect(response.headers.get('content-type')).toBe('text/html');
        expect(await response.text()).toBe('<html>busy</html>');
    });

    it('adds latency before handling normally', async () => {
        await sim.control.addFault({ endpoint: 'apps.getData', latencyMs: 150, times: 1 });
        const started = Date.now();
        const response = await fetch(instance.dataElements[0].appsUrl, { headers: bearer(token) });
        expect(response.status).toBe(200);
        expect(await response.text()).toBe('hello world');
        expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    });

    it('resets the connection without an answer', async () => {
        await sim.control.addFault({ endpoint: 'apps.complete', reset: true, times: 1 });
        await expect(fetch(`${instance.url}/complete`, { method: 'POST', headers: bearer(token) })).rejects.toThrow();
        await waitUntil(() => (sim.counters().requests['apps.complete']?.reset === 1 ? true : undefined));
        expect(sim.counters().completes[instance.id]).toBeUndefined();
        expect((await fetch(`${instance.url}/complete`, { method: 'POST', headers: bearer(token) })).status).toBe(200);
    });

    it('truncates the body after N bytes while Content-Length promised all of it', async () => {
        await sim.control.addFault({
            endpoint: 'storage.getData',
            truncateAfterBytes: 1000,
            pathContains: instance.dataElements[1].id,
        });
        const cut = await rawGet(instance.dataElements[1].platformUrl, bearer(token));
        expect(cut.status).toBe(200);
        expect(cut.contentLength).toBe(1_000_000);
        expect(cut.received).toBe(1000);
        expect(cut.error).toBeDefined();
        // pathContains: the other element is untouched.
        const whole = await rawGet(instance.dataElements[0].platformUrl, bearer(token));
        expect(whole).toEqual({ status: 200, contentLength: 11, received: 11 });
        await waitUntil(() => (sim.counters().contentBytes[instance.dataElements[1].id] === 1000 ? true : undefined));
    });

    it('truncates a small JSON answer too', async () => {
        await sim.control.addFault({ endpoint: 'apps.getInstance', truncateAfterBytes: 10, times: 1 });
        const cut = await rawGet(instance.url, bearer(token));
        expect(cut.received).toBe(10);
        expect(cut.contentLength).toBeGreaterThan(10);
    });

    it('honours probability 0 and 1', async () => {
        const never = await sim.control.addFault({ endpoint: 'apps.getInstance', status: 500, probability: 0 });
        expect((await fetch(instance.url, { headers: bearer(token) })).status).toBe(200);
        await sim.control.removeFault(never.id);
        await sim.control.addFault({ endpoint: 'apps.getInstance', status: 500, probability: 1 });
        expect((await fetch(instance.url, { headers: bearer(token) })).status).toBe(500);
        await sim.control.clearFaults();
        expect(await sim.control.listFaults()).toEqual([]);
        expect((await fetch(instance.url, { headers: bearer(token) })).status).toBe(200);
    });

    it('rejects faults for unknown endpoints or without an effect', async () => {
        await expect(sim.control.addFault({ endpoint: 'apps.nope', status: 500 })).rejects.toThrow(/Unknown endpoint/);
        await expect(sim.control.addFault({ endpoint: 'apps.complete' })).rejects.toThrow(/at least one/);
        await expect(sim.control.removeFault('nope')).rejects.toThrow(/No fault/);
    });
});

describe('every endpoint name can be faulted', () => {
    it('answers the injected 503 on each endpoint', async () => {
        const creds = sharedClientCredentials();
        await sim.control.registerClient(clientRegistration(creds, SERVICEOWNER_SCOPES));
        const mp = await maskinportenToken(sim, creds, SERVICEOWNER_SCOPES);
        const ft = await sim.control.createFileTransfer({
            resourceId: 'r',
            fileName: 'f',
            content: 'x',
            recipients: [(await sim.control.info()).orgNumber],
        });
        const json = { ...bearer(token), 'Content-Type': 'application/json' };
        const calls: Record<string, () => Promise<Response>> = {
            'maskinporten.token': async () =>
                postGrant(sim, await signGrant(creds, { aud: `${sim.maskinportenUrl}/`, scopes: SERVICEOWNER_SCOPES })),
            'maskinporten.metadata': () => fetch(`${sim.maskinportenUrl}/jwk`),
            'authentication.exchange': () =>
                fetch(`${sim.platformUrl}/authentication/api/v1/exchange/maskinporten`, { headers: bearer(mp) }),
            'apps.getInstance': () => fetch(instance.url, { headers: bearer(token) }),
            'apps.getData': () => fetch(instance.dataElements[0].appsUrl, { headers: bearer(token) }),
            'apps.postData': () =>
                fetch(`${instance.url}/data?dataType=x`, {
                    method: 'POST',
                    headers: { ...bearer(token), 'Content-Type': 'text/plain' },
                    body: 'x',
                }),
            'apps.getProcess': () => fetch(`${instance.url}/process`, { headers: bearer(token) }),
            'apps.processNext': () => fetch(`${instance.url}/process/next`, { method: 'PUT', headers: bearer(token) }),
            'apps.substatus': () =>
                fetch(`${instance.url}/substatus`, { method: 'PUT', headers: json, body: '{"label":"x"}' }),
            'apps.complete': () => fetch(`${instance.url}/complete`, { method: 'POST', headers: bearer(token) }),
            'storage.getInstance': () =>
                fetch(`${sim.platformUrl}/storage/api/v1/instances/${instance.id}`, { headers: bearer(token) }),
            'storage.getData': () => fetch(instance.dataElements[0].platformUrl, { headers: bearer(token) }),
            'storage.queryInstances': () =>
                fetch(`${sim.platformUrl}/storage/api/v1/instances?org=ttd&appId=ttd/fault-app`, {
                    headers: bearer(token),
                }),
            'events.subscriptions': () =>
                fetch(`${sim.platformUrl}/events/api/v1/subscriptions`, { headers: bearer(token) }),
            'events.query': () =>
                fetch(`${sim.platformUrl}/events/api/v1/app/ttd/fault-app?after=0`, { headers: bearer(token) }),
            'events.publish': () =>
                fetch(`${sim.platformUrl}/events/api/v1/app`, { method: 'POST', headers: json, body: '{}' }),
            'broker.list': () =>
                fetch(`${sim.platformUrl}/broker/api/v1/filetransfer?resourceId=r`, { headers: bearer(token) }),
            'broker.overview': () =>
                fetch(`${sim.platformUrl}/broker/api/v1/filetransfer/${ft.fileTransferId}`, { headers: bearer(token) }),
            'broker.details': () =>
                fetch(`${sim.platformUrl}/broker/api/v1/filetransfer/${ft.fileTransferId}/details`, {
                    headers: bearer(token),
                }),
            'broker.download': () =>
                fetch(`${sim.platformUrl}/broker/api/v1/filetransfer/${ft.fileTransferId}/download`, {
                    headers: bearer(token),
                }),
            'broker.confirm': () =>
                fetch(`${sim.platformUrl}/broker/api/v1/filetransfer/${ft.fileTransferId}/confirmdownload`, {
                    method: 'POST',
                    headers: bearer(token),
                }),
            'broker.initialize': () =>
                fetch(`${sim.platformUrl}/broker/api/v1/filetransfer`, { method: 'POST', headers: json, body: '{}' }),
            'broker.upload': () =>
                fetch(`${sim.platformUrl}/broker/api/v1/filetransfer/${ft.fileTransferId}/upload`, {
                    method: 'POST',
                    headers: { ...bearer(token), 'content-type': 'application/octet-stream' },
                    body: 'x',
                }),
        };
        expect(Object.keys(calls).sort()).toEqual(ENDPOINT_NAMES.filter((n) => n !== 'delivery').sort());
        for (const [endpoint, call] of Object.entries(calls)) {
            await sim.control.addFault({ endpoint, status: 503, times: 1 });
            const faulted = await call();
            expect([endpoint, faulted.status]).toEqual([endpoint, 503]);
            await faulted.arrayBuffer();
            const normal = await call();
            expect([endpoint, normal.status]).not.toEqual([endpoint, 503]);
            await normal.arrayBuffer();
        }
    });
});

describe('delivery faults', () => {
    it('fails pushes by status, reset and truncation (retried), delays them, and can target one event type', async () => {
        const receiver = await startReceiver();
        try {
            // Only the validation event: the first two validation attempts fail without reaching the receiver.
            await sim.control.addFault({
                endpoint: 'delivery',
                eventType: 'platform.events.validatesubscription',
                status: 500,
                times: 2,
            });
            const response = await fetch(`${sim.platformUrl}/events/api/v1/subscriptions`, {
                method: 'POST',
                headers: { ...bearer(token), 'Content-Type': 'application/json' },
                body: JSON.stringify({
                    endPoint: `${receiver.url}/hook`,
                    sourceFilter: `${sim.appsUrl}/ttd/fault-app`,
                }),
            });
            const { id } = (await response.json()) as { id: number };
            const validation = await waitUntil(async () =>
                (await sim.control.listDeliveries()).find((d) => d.subscriptionId === id && d.state === 'delivered'),
            );
            expect(receiver.received).toHaveLength(1);
            expect(validation.attempts.map((a) => [a.status, a.faulted ?? false])).toEqual([
                [500, true],
                [500, true],
                [200, false],
            ]);

            await sim.control.addFault({ endpoint: 'delivery', reset: true, times: 1 });
            await sim.control.addFault({ endpoint: 'delivery', truncateAfterBytes: 20, times: 1 });
            await sim.control.addFault({ endpoint: 'delivery', latencyMs: 30, times: 1 });
            receiver.received.length = 0;
            const moved = await sim.control.moveProcess(instance.id, { to: 'completed' });
            const [push] = await receiver.waitFor(1);
            expect(push.body).toContain(moved.events[0].id);
            const delivery = await waitUntil(async () =>
                (await sim.control.listDeliveries()).find(
                    (d) => d.eventId === moved.events[0].id && d.state === 'delivered',
                ),
            );
            expect(delivery.attempts).toHaveLength(3);
            expect(delivery.attempts[0]).toMatchObject({
                faulted: true,
                error: expect.stringMatching(/reset/) as string,
            });
            expect(delivery.attempts[1]).toMatchObject({ faulted: true, error: expect.any(String) as string });
            expect(delivery.attempts[2].status).toBe(200);
            expect(delivery.attempts[2].durationMs).toBeGreaterThanOrEqual(25);
            expect(sim.counters().faultsApplied.delivery).toBe(5);
        } finally {
            await receiver.stop();
        }
    });
});

describe('counters and control', () => {
    it('counts Authorization headers per listener and unknown routes', async () => {
        await fetch(`${sim.maskinportenUrl}/somewhere`, { headers: bearer(token) });
        await fetch(`${sim.appsUrl}/nothing/here`);
        const counters = sim.counters();
        expect(counters.authorizationHeaders.maskinporten).toBe(1);
        expect(counters.requests.unknown).toEqual({ '404': 2 });
    });

    it('answers 405 for a known path with another method', async () => {
        expect((await fetch(instance.url, { method: 'DELETE', headers: bearer(token) })).status).toBe(405);
    });

    it('offers the same operations over HTTP under /sim/', async () => {
        const http = new HttpControlClient(sim.platformUrl);
        const info = await http.info();
        expect(info).toMatchObject({
            platformUrl: sim.platformUrl,
            appsUrl: sim.appsUrl,
            maskinportenUrl: sim.maskinportenUrl,
            org: 'ttd',
        });
        const created = await http.createInstance({
            app: 'http-app',
            process: 'completed',
            publish: true,
            dataElements: [{ dataType: 'x', content: 'aGk=', encoding: 'base64' }],
        });
        expect((await http.getInstance(created.id)).id).toBe(created.id);
        expect((await http.listInstances()).length).toBe(2);
        expect((await http.contentDigest(created.dataElements[0].id)).size).toBe(2);
        const moved = await sim.control.createInstance({ app: 'http-app' });
        expect((await http.moveProcess(moved.id, { to: 'Task_2' })).events[0].type).toBe(
            'app.instance.process.movedTo.Task_2',
        );
        await expect(http.moveProcess('1/2', { to: 'next' })).rejects.toThrow(/404/);
        expect((await http.publishEvent({ event: { type: 't', source: 'https://x/y' } })).specversion).toBe('1.0');
        expect((await http.listEvents()).length).toBe(3);
        const fault = await http.addFault({ endpoint: 'apps.getInstance', status: 500 });
        expect((await http.listFaults()).map((f) => f.id)).toEqual([fault.id]);
        await http.removeFault(fault.id);
        await expect(http.addFault({ endpoint: 'x', status: 500 })).rejects.toThrow(/400/);
        await http.clearFaults();
        const altinnToken = await http.issueAltinnToken({ scopes: SERVICEOWNER_SCOPES });
        expect((await fetch(created.url, { headers: bearer(altinnToken) })).status).toBe(200);
        expect(typeof (await http.issueMaskinportenToken({ scopes: ['x'] }))).toBe('string');
        const ft = await http.createFileTransfer({
            resourceId: 'r',
            fileName: 'f',
            content: 'x',
            recipients: [info.orgNumber],
        });
        expect((await http.listFileTransfers())[0]).toMatchObject({ fileTransferId: ft.fileTransferId });
        await http.registerClient(clientRegistration(sharedClientCredentials(), ['a']));
        expect((await http.listClients()).map((c) => c.clientId)).toContain('shared-test-client');
        expect(Array.isArray(await http.listSubscriptions())).toBe(true);
        expect(Array.isArray(await http.listDeliveries())).toBe(true);
        expect((await http.counters()).requests['apps.getInstance']).toEqual({ '200': 1 });
        await http.reset();
        expect(await http.listInstances()).toEqual([]);
        expect(await http.listEvents()).toEqual([]);
        expect((await http.listClients()).length).toBeGreaterThan(0);
        await http.reset({ clients: true });
        expect(await http.listClients()).toEqual([]);
    });

    it('answers 400 to a malformed control request', async () => {
        const response = await fetch(`${sim.platformUrl}/sim/instances`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: '{',
        });
        expect(response.status).toBe(400);
        const missing = await fetch(`${sim.platformUrl}/sim/instances`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: '{"app":""}',
        });
        expect(missing.status).toBe(400);
    });
});
