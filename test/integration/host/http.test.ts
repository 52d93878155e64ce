import { createHash, randomBytes } from 'node:crypto';
import { QueueClient } from '@azure/storage-queue';
import { startAzurite, type AzuriteInstance } from '../../support/azurite';
import { startHostProcess, type HostProcess } from '../../support/host';
import { fixtureApp, fromBase64 } from './fixture';

jest.setTimeout(60_000);

const key = 'test-function-key';
let azurite: AzuriteInstance;
let host: HostProcess;
let api: string;

beforeAll(async () => {
    azurite = await startAzurite();
    host = await startHostProcess({
        appRoot: fixtureApp,
        env: { AzureWebJobsStorage: azurite.connectionString, LocalHostFunctionKey: key },
    });
    api = `${host.url}/api`;
});

afterAll(async () => {
    await host?.stop();
    await azurite?.stop();
});

test('routes to a function by its name, case-insensitively, with query and body', async () => {
    const byQuery = await fetch(`${api}/hello?name=Kari`);
    expect(byQuery.status).toBe(200);
    expect(await byQuery.text()).toBe('Hello, Kari!');

    const byBody = await fetch(`${api}/Hello`, { method: 'POST', body: 'Ola' });
    expect(await byBody.text()).toBe('Hello, Ola!');
});

test('route parameters, literal segments before parameters, and 404 for unknown routes or methods', async () => {
    const byId = await fetch(`${api}/items/42?q=x&code=${key}`);
    expect(byId.status).toBe(200);
    expect(await byId.json()).toEqual({
        kind: 'by-id',
        id: '42',
        q: 'x',
        url: `${api}/items/42?q=x&code=${key}`,
        triggerType: 'httpTrigger',
    });

    const special = await fetch(`${api}/items/special`);
    expect(await special.json()).toEqual({ kind: 'special' });

    expect((await fetch(`${api}/unknown`)).status).toBe(404);
    expect((await fetch(`${host.url}/hello`)).status).toBe(404);
    // A known route with a method it does not allow is a 404 in the Functions host too.
    expect((await fetch(`${api}/items/42?code=${key}`, { method: 'DELETE' })).status).toBe(404);
    expect((await fetch(`${api}/items/42/more?code=${key}`)).status).toBe(404);
});

test("returns the handler's status, headers, cookies and JSON body", async () => {
    const response = await fetch(`${api}/items`, {
        method: 'POST',
        headers: { 'x-functions-key': key, 'content-type': 'application/json' },
        body: JSON.stringify({ id: 7, name: 'seven' }),
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toBe('/api/items/7');
    expect(response.headers.get('x-fixture')).toBe('created');
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.getSetCookie()).toEqual(['session=abc; Path=/; HttpOnly']);
    expect(await response.json()).toEqual({ id: 7, name: 'seven' });
});

test('binary response bodies arrive byte for byte', async () => {
    const response = await fetch(`${api}/bytes`);
    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    expect([...new Uint8Array(await response.arrayBuffer())]).toEqual([0, 1, 2, 253, 254, 255]);
});

test('large request bodies (20 MB) reach the function intact', async () => {
    const body = randomBytes(20 * 1024 * 1024);
    const response = await fetch(`${api}/echo`, {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream' },
        body,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-length')).toBe(String(body.length));
    expect(response.headers.get('x-sha256')).toBe(createHash('sha256').update(body).digest('hex'));
    expect(response.headers.get('x-method')).toBe('PUT');
    expect(Buffer.from(await response.arrayBuffer())).toEqual(body.subarray(0, 64));
});

test('a throwing function answers 500 and logs Failed with the error message', async () => {
    const mark = host.output().length;
    const response = await fetch(`${api}/fail`);
    expect(response.status).toBe(500);
    expect(await response.text()).toBe('');
    await host.waitForOutput(/Executed 'Functions\.Fail' \(Failed, Id=[0-9a-f-]{36}, Duration=\d+ms\)/, 5_000, mark);
    await host.waitForOutput(/Exception: fixture failure/, 5_000, mark);
});

test('with LocalHostFunctionKey set, authLevel function needs the key; anonymous does not', async () => {
    expect((await fetch(`${api}/items/1`)).status).toBe(401);
    expect((await fetch(`${api}/items/1?code=wrong`)).status).toBe(401);
    expect((await fetch(`${api}/items/1`, { headers: { 'x-functions-key': 'wrong' } })).status).toBe(401);
    expect((await fetch(`${api}/items/1?code=${key}`)).status).toBe(200);
    expect((await fetch(`${api}/items/1`, { headers: { 'x-functions-key': key } })).status).toBe(200);
    expect((await fetch(`${api}/hello`)).status).toBe(200);
});

test('logs Executing, the user lines and hooks, then Executed, in that order', async () => {
    const mark = host.output().length;
    await fetch(`${api}/hello?name=Logline`);
    await host.waitForOutput(/Executed 'Functions\.Hello' \(Succeeded/, 5_000, mark);
    const lines = host.output().slice(mark).split('\n');
    const executing = lines.findIndex((line) =>
        /Executing 'Functions\.Hello' \(Reason='This function was programmatically called via the host APIs\.', Id=[0-9a-f-]{36}\)/.test(
            line,
        ),
    );
    const pre = lines.findIndex((line) => line.includes('FIXTURE preInvocation Hello'));
    const user = lines.findIndex((line) => line.includes('FIXTURE Hello name=Logline'));
    const post = lines.findIndex((line) => line.includes('FIXTURE postInvocation Hello ok shared=true'));
    const executed = lines.findIndex((line) =>
        /Executed 'Functions\.Hello' \(Succeeded, Id=[0-9a-f-]{36}, Duration=\d+ms\)/.test(line),
    );
    expect([executing, pre, user, post, executed].every((index) => index >= 0)).toBe(true);
    expect(executing).toBeLessThan(pre);
    expect(pre).toBeLessThan(user);
    expect(user).toBeLessThan(post);
    expect(post).toBeLessThan(executed);
});

test('a function that returns nothing answers an empty 200', async () => {
    const response = await fetch(`${api}/nothing`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
});

test('a queue output set to an array writes one base64 message per element', async () => {
    const response = await fetch(`${api}/enqueue`, {
        method: 'POST',
        body: JSON.stringify({ messages: ['first', { second: 2 }] }),
    });
    expect(response.status).toBe(202);
    // %OutputQueue% resolves to "outputs" from local.settings.json.
    const queue = new QueueClient(azurite.connectionString, 'outputs');
    const peeked = await queue.peekMessages({ numberOfMessages: 10 });
    expect(peeked.peekedMessageItems.map((message) => fromBase64(message.messageText))).toEqual([
        'first',
        '{"second":2}',
    ]);
});

describe('with HTTP streaming enabled by the app (app.setup enableHttpStream)', () => {
    let streaming: HostProcess;

    beforeAll(async () => {
        streaming = await startHostProcess({
            appRoot: fixtureApp,
            env: {
                AzureWebJobsStorage: azurite.connectionString,
                FIXTURE_HTTP_STREAM: 'true',
                FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: String(1024 * 1024),
            },
        });
    });

    afterAll(async () => {
        await streaming?.stop();
    });

    test('requests and responses go through the library proxy', async () => {
        expect(streaming.output()).toContain('HTTP streaming is enabled');
        const hello = await fetch(`${streaming.url}/api/hello?name=Stream`);
        expect(await hello.text()).toBe('Hello, Stream!');

        const item = await fetch(`${streaming.url}/api/items/5?q=s`);
        expect(await item.json()).toMatchObject({ kind: 'by-id', id: '5', q: 's' });

        const body = randomBytes(512 * 1024);
        const echo = await fetch(`${streaming.url}/api/echo`, { method: 'POST', body });
        expect(echo.headers.get('x-sha256')).toBe(createHash('sha256').update(body).digest('hex'));

        expect((await fetch(`${streaming.url}/api/fail`)).status).toBe(500);
    });

    test('bodies over FUNCTIONS_REQUEST_BODY_SIZE_LIMIT get 413', async () => {
        const response = await fetch(`${streaming.url}/api/echo`, {
            method: 'POST',
            body: randomBytes(2 * 1024 * 1024),
        });
        expect(response.status).toBe(413);
    });
});
