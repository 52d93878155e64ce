import { createHash } from 'node:crypto';
import { HttpControlClient } from '../../../dev/simulator/controlClient';
import { generatedDigest } from '../../../dev/simulator/dataGenerator';
import { type Simulator } from '../../../dev/simulator/simulator';
import { type CreatedInstance } from '../../../dev/simulator/types';
import { bearer, registeredAltinnToken, startTestSimulator, SERVICEOWNER_SCOPES } from '../../support/simulator';

/* Contract: the app API on the apps origin and Storage's data download (altinn-api.md §4). */

// Generous: RSA key generation and real sockets are slow on a loaded machine.
jest.setTimeout(30_000);

interface Links {
    apps: string;
    platform: string;
}
interface DataElementJson extends Record<string, unknown> {
    selfLinks: Links;
    size: number;
}
interface InstanceJson extends Record<string, unknown> {
    data: DataElementJson[];
    selfLinks: Links;
    lastChanged: string;
    status: Record<string, unknown>;
    completeConfirmations: unknown;
}

let sim: Simulator;
let token: string;

beforeAll(async () => {
    sim = await startTestSimulator({ org: 'ttd', orgNumber: '405003309', maxUploadBytes: 1024 });
    token = await registeredAltinnToken(sim);
});

afterAll(() => sim.stop());

function call(url: string, init: RequestInit & { token?: string | null } = {}): Promise<Response> {
    const auth = init.token === null ? {} : bearer(init.token ?? token);
    return fetch(url, {
        ...init,
        headers: { Accept: 'application/json', ...auth, ...(init.headers as Record<string, string>) },
    });
}

async function instance(
    overrides: Partial<Parameters<Simulator['control']['createInstance']>[0]> = {},
): Promise<CreatedInstance> {
    return sim.control.createInstance({
        app: 'apps-test',
        personNumber: '01017012345',
        process: 'Task_1',
        dataElements: [
            { dataType: 'model', contentType: 'application/xml', filename: 'model.xml', content: '<a>æøå</a>' },
            {
                dataType: 'attachment',
                contentType: 'application/pdf',
                filename: 'Søknad om støtte.pdf',
                size: 300_000,
                seed: 's1',
            },
        ],
        ...overrides,
    });
}

describe('GET /{org}/{app}/instances/{partyId}/{guid}', () => {
    it('answers the InstanceResponse with party, data elements and self links on both origins', async () => {
        const created = await instance({ partyName: 'Ola Nordmann' });
        const response = await call(created.url);
        expect(response.status).toBe(200);
        const body = (await response.json()) as InstanceJson;
        expect(body).toMatchObject({
            id: created.id,
            appId: 'ttd/apps-test',
            org: 'ttd',
            selfLinks: {
                apps: created.url,
                platform: `${sim.platformUrl}/storage/api/v1/instances/${created.id}`,
            },
            instanceOwner: {
                partyId: String(created.partyId),
                personNumber: '01017012345',
                party: { partyId: created.partyId, partyTypeName: 'Person', ssn: '01017012345', name: 'Ola Nordmann' },
            },
            process: { currentTask: { elementId: 'Task_1' }, ended: null },
            status: { isArchived: false },
            completeConfirmations: null,
        });
        expect(typeof body.lastChanged).toBe('string');
        expect(body.data).toHaveLength(2);
        const [model, attachment] = body.data;
        expect(model).toMatchObject({
            id: created.dataElements[0].id,
            instanceGuid: created.instanceGuid,
            dataType: 'model',
            contentType: 'application/xml',
            filename: 'model.xml',
            size: Buffer.byteLength('<a>æøå</a>'),
            blobStoragePath: `ttd/apps-test/${created.instanceGuid}/data/${created.dataElements[0].id}`,
            selfLinks: {
                apps: `${created.url}/data/${created.dataElements[0].id}`,
                platform: `${sim.platformUrl}/storage/api/v1/instances/${created.id}/data/${created.dataElements[0].id}`,
            },
        });
        expect(attachment.size).toBe(300_000);
    });

    it('answers 404 for an unknown instance or the wrong app', async () => {
        const created = await instance();
        expect((await call(created.url.replace('apps-test', 'other-app'))).status).toBe(404);
        expect((await call(created.url.replace(/[0-9a-f-]{36}$/, '00000000-0000-0000-0000-000000000000'))).status).toBe(
            404,
        );
    });

    it('answers 403 to another org or a token without the read scope', async () => {
        const created = await instance();
        const otherOrg = await sim.control.issueAltinnToken({ scopes: SERVICEOWNER_SCOPES, org: 'skd' });
        expect((await call(created.url, { token: otherOrg })).status).toBe(403);
        const writeOnly = await sim.control.issueAltinnToken({ scopes: ['altinn:serviceowner/instances.write'] });
        expect((await call(created.url, { token: writeOnly })).status).toBe(403);
    });

    it('answers 401 to a missing, expired, foreign or Maskinporten token', async () => {
        const created = await instance();
        expect((await call(created.url, { token: null })).status).toBe(401);
        const expired = await sim.control.issueAltinnToken({ scopes: SERVICEOWNER_SCOPES, expiresInSeconds: -1 });
        const response = await call(created.url, { token: expired });
        expect(response.status).toBe(401);
        expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
        const mp = await sim.control.issueMaskinportenToken({ scopes: SERVICEOWNER_SCOPES });
        expect((await call(created.url, { token: mp })).status).toBe(401);
        const other = await startTestSimulator();
        try {
            const foreign = await other.control.issueAltinnToken({ scopes: SERVICEOWNER_SCOPES });
            expect((await call(created.url, { token: foreign })).status).toBe(401);
        } finally {
            await other.stop();
        }
    });
});

describe('data download', () => {
    it('streams a small element with Content-Type and Content-Disposition from the app and from Storage', async () => {
        const created = await instance();
        const [model] = created.dataElements;
        for (const url of [model.appsUrl, model.platformUrl]) {
            const response = await call(url);
            expect(response.status).toBe(200);
            expect(response.headers.get('content-type')).toBe('application/xml');
            expect(response.headers.get('content-disposition')).toBe(
                "attachment; filename=model.xml; filename*=UTF-8''model.xml",
            );
            expect(await response.text()).toBe('<a>æøå</a>');
        }
    });

    it('names a unicode file with an ASCII fallback and filename*', async () => {
        const created = await instance();
        const response = await call(created.dataElements[1].platformUrl);
        expect(response.headers.get('content-disposition')).toBe(
            `attachment; filename="S_knad om st_tte.pdf"; filename*=UTF-8''S%C3%B8knad%20om%20st%C3%B8tte.pdf`,
        );
        expect(response.headers.get('content-length')).toBe('300000');
        const bytes = Buffer.from(await response.arrayBuffer());
        expect(createHash('sha256').update(bytes).digest('hex')).toBe(await generatedDigest('s1', 300_000));
        expect((await sim.control.contentDigest(created.dataElements[1].id)).sha256).toBe(
            await generatedDigest('s1', 300_000),
        );
    });

    it('streams a large generated element without holding it (64 MiB, hash recomputed from the seed)', async () => {
        const size = 64 * 1024 * 1024;
        const created = await instance({
            dataElements: [{ dataType: 'big', contentType: 'application/octet-stream', size, seed: 'big' }],
        });
        const before = process.memoryUsage().rss;
        const response = await call(created.dataElements[0].platformUrl);
        const hash = createHash('sha256');
        let total = 0;
        for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
            hash.update(chunk);
            total += chunk.length;
        }
        expect(total).toBe(size);
        expect(hash.digest('hex')).toBe(await generatedDigest('big', size));
        expect(process.memoryUsage().rss - before).toBeLessThan(48 * 1024 * 1024);
        expect(sim.counters().contentBytes[created.dataElements[0].id]).toBe(size);
    });

    it('serves a zero-byte element', async () => {
        const created = await instance({
            dataElements: [{ dataType: 'empty', size: 0, filename: 'empty.txt', contentType: 'text/plain' }],
        });
        const response = await call(created.dataElements[0].appsUrl);
        expect(response.status).toBe(200);
        expect(response.headers.get('content-length')).toBe('0');
        expect(await response.text()).toBe('');
    });

    it('answers ProblemDetails 404 for an unknown element on the app and 404 on Storage; 400 for party 0', async () => {
        const created = await instance();
        const missing = '11111111-2222-3333-4444-555555555555';
        const appResponse = await call(`${created.url}/data/${missing}`);
        expect(appResponse.status).toBe(404);
        expect(appResponse.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(await appResponse.json()).toMatchObject({ title: 'Data Element Not Found', status: 404 });
        expect((await call(`${sim.platformUrl}/storage/api/v1/instances/${created.id}/data/${missing}`)).status).toBe(
            404,
        );
        expect(
            (await call(`${sim.platformUrl}/storage/api/v1/instances/0/${created.instanceGuid}/data/${missing}`))
                .status,
        ).toBe(400);
    });

    it('serves the Storage instance and answers 403 to another org on Storage', async () => {
        const created = await instance();
        const response = await call(`${sim.platformUrl}/storage/api/v1/instances/${created.id}`);
        expect(response.status).toBe(200);
        expect(await response.json()).toMatchObject({ id: created.id, status: { readStatus: 'Read' } });
        const otherOrg = await sim.control.issueAltinnToken({ scopes: SERVICEOWNER_SCOPES, org: 'skd' });
        expect((await call(created.dataElements[0].platformUrl, { token: otherOrg })).status).toBe(403);
    });

    it('points a self link wherever a test asks', async () => {
        const created = await instance({
            dataElements: [{ dataType: 'x', content: 'x', selfLinks: { platform: 'https://evil.example/steal' } }],
        });
        expect(created.dataElements[0].platformUrl).toBe('https://evil.example/steal');
    });
});

describe('fileScanResult', () => {
    it('is NotApplicable unless set, as given at creation, and moved on by the control API without touching lastChanged', async () => {
        const created = await instance({
            dataElements: [
                { dataType: 'model', content: '<a/>' },
                { dataType: 'attachment', content: 'scan me', fileScanResult: 'Pending' },
            ],
        });
        const before = (await (await call(created.url)).json()) as InstanceJson;
        expect(before.data.map((d) => d.fileScanResult)).toEqual(['NotApplicable', 'Pending']);

        const pending = created.dataElements[1];
        const moved = await new HttpControlClient(sim.platformUrl).setFileScanResult(pending.id, 'Clean');
        expect(moved).toMatchObject({ id: pending.id, fileScanResult: 'Clean' });
        const after = (await (await call(created.url)).json()) as InstanceJson;
        expect(after.data.map((d) => d.fileScanResult)).toEqual(['NotApplicable', 'Clean']);
        expect(after.data[1].lastChanged).toBe(before.data[1].lastChanged);
        // Storage's own view of the instance says the same.
        const storage = (await (await call(after.selfLinks.platform)).json()) as InstanceJson;
        expect(storage.data[1].fileScanResult).toBe('Clean');
    });

    it("refuses a value that is not one of Altinn's, and an unknown element", async () => {
        await expect(
            instance({ dataElements: [{ dataType: 'x', content: 'a', fileScanResult: 'clean' as 'Clean' }] }),
        ).rejects.toThrow(/fileScanResult must be one of NotApplicable, Pending, Clean, Infected/);
        const created = await instance();
        await expect(sim.control.setFileScanResult(created.dataElements[0].id, 'Dirty' as 'Clean')).rejects.toThrow(
            /fileScanResult must be one of/,
        );
        await expect(
            new HttpControlClient(sim.platformUrl).setFileScanResult('9f0e0c5e-0000-4000-8000-000000000000', 'Clean'),
        ).rejects.toThrow(/404 No data element/);
    });
});

describe('POST .../data?dataType=', () => {
    it('creates a data element: 201, Location, DataElement body', async () => {
        const created = await instance();
        const response = await call(`${created.url}/data?dataType=feedback`, {
            method: 'POST',
            headers: {
                'Content-Type': 'text/xml',
                'Content-Disposition': 'attachment; filename="x.xml"; filename*=UTF-8\'\'tilbakemelding%C3%A6.xml',
            },
            body: '<feedback/>',
        });
        expect(response.status).toBe(201);
        const element = (await response.json()) as DataElementJson;
        expect(response.headers.get('location')).toBe(element.selfLinks.apps);
        expect(element).toMatchObject({
            dataType: 'feedback',
            contentType: 'text/xml',
            filename: 'tilbakemeldingæ.xml',
            size: 11,
        });
        const fetched = await call(element.selfLinks.platform);
        expect(await fetched.text()).toBe('<feedback/>');
        const after = (await (await call(created.url)).json()) as { data: unknown[] };
        expect(after.data).toHaveLength(3);
    });

    it('answers 400 without a content type, for zero bytes and for an unknown data type', async () => {
        const created = await instance({ dataTypes: ['feedback'] });
        const named = { 'Content-Disposition': 'attachment; filename=feedback.xml' };
        const post = (query: string, headers: Record<string, string>, body?: Uint8Array) =>
            call(`${created.url}/data${query}`, { method: 'POST', headers: { ...named, ...headers }, body });
        let response = await post('?dataType=feedback', {}, new Uint8Array([1]));
        expect(response.status).toBe(400);
        expect(await response.json()).toBe('The request is missing a content type header.');
        response = await post('?dataType=feedback', { 'Content-Type': 'text/xml' });
        expect(response.status).toBe(400);
        expect(await response.json()).toBe('Invalid data provided. Error: The file is zero bytes.');
        response = await post('?dataType=other', { 'Content-Type': 'text/xml' }, new Uint8Array([1]));
        expect(response.status).toBe(400);
        expect(await response.json()).toBe(
            'Could not find the specified data type: "other" in applicationmetadata.json',
        );
        response = await post('?dataType=feedback', { 'Content-Type': 'text/xml' }, new Uint8Array(2048));
        expect(response.status).toBe(413);
    });

    it('requires a Content-Disposition with a file name that has an extension (DataRestrictionValidation)', async () => {
        const created = await instance({ dataTypes: ['feedback', { id: 'model', form: true }] });
        const post = (dataType: string, headers: Record<string, string>) =>
            call(`${created.url}/data?dataType=${dataType}`, {
                method: 'POST',
                headers: { 'Content-Type': 'application/xml', ...headers },
                body: '<x/>',
            });
        const refusals: [Record<string, string>, string][] = [
            [{}, 'Invalid data provided. Error: The request must include a Content-Disposition header'],
            [
                { 'Content-Disposition': 'attachment' },
                'Invalid data provided. Error: The Content-Disposition header must contain a valid filename',
            ],
            [
                { 'Content-Disposition': 'attachment; filename=feedback' },
                "Invalid data provided. Error: Invalid format for filename: feedback. Filename is expected to end with '.{filetype}'.",
            ],
        ];
        for (const [headers, message] of refusals) {
            const response = await post('feedback', headers);
            expect(response.status).toBe(400);
            expect(await response.json()).toBe(message);
        }
        // A form data type (appLogic.classRef) is deserialised, not checked as a file.
        expect((await post('model', {})).status).toBe(201);
        expect((await post('feedback', { 'Content-Disposition': 'attachment; filename="a.b.xml"' })).status).toBe(201);
    });

    it('checks Content-Type against the extension and allowedContentTypes where the data type restricts them', async () => {
        const created = await instance({
            dataTypes: [{ id: 'feedback', allowedContentTypes: ['application/xml', 'text/xml'] }],
        });
        const post = (filename: string, contentType?: string) =>
            call(`${created.url}/data?dataType=feedback`, {
                method: 'POST',
                headers: {
                    'Content-Disposition': `attachment; filename=${filename}`,
                    ...(contentType ? { 'Content-Type': contentType } : {}),
                },
                body: contentType === undefined ? undefined : 'x',
            });
        for (const ok of ['application/xml', 'text/xml', 'TEXT/XML']) {
            expect((await post('feedback.xml', ok)).status).toBe(201);
        }
        let response = await post('feedback.json', 'application/xml');
        expect(response.status).toBe(400);
        expect(await response.json()).toBe(
            'Invalid data provided. Error: Content type header application/xml does not match mime type application/json for uploaded file. Please fix header or upload another file.',
        );
        // The whole header is compared: a charset parameter does not match.
        response = await post('feedback.xml', 'application/xml; charset=utf-8');
        expect(response.status).toBe(400);
        response = await post('feedback.xml', 'application/octet-stream');
        expect(response.status).toBe(400);
        expect(await response.json()).toBe(
            'Invalid data provided. Error: Invalid content type: application/xml. Please try another file. Permitted content types include: application/xml, text/xml',
        );
        response = await post('feedback.xml');
        expect(response.status).toBe(400);
        expect(await response.json()).toBe(
            'Invalid data provided. Error: Content-Type header must be included in request.',
        );
    });

    it('answers 409 "Instance Not Active" for an archived instance (before "No current task")', async () => {
        const archived = await instance({ process: 'completed' });
        const headers = { 'Content-Type': 'text/xml', 'Content-Disposition': 'attachment; filename=x.xml' };
        const response = await call(`${archived.url}/data?dataType=feedback`, {
            method: 'POST',
            headers,
            body: '<x/>',
        });
        expect(response.status).toBe(409);
        expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(await response.json()).toEqual({
            title: 'Instance Not Active',
            status: 409,
            detail: `Cannot update data element of archived or deleted instance ${archived.id}`,
        });
    });

    it('answers 403 without the write scope', async () => {
        const created = await instance();
        const readOnly = await sim.control.issueAltinnToken({ scopes: ['altinn:serviceowner/instances.read'] });
        const response = await call(`${created.url}/data?dataType=feedback`, {
            token: readOnly,
            method: 'POST',
            headers: { 'Content-Type': 'text/xml', 'Content-Disposition': 'attachment; filename=x.xml' },
            body: '<x/>',
        });
        expect(response.status).toBe(403);
    });
});

describe('process, substatus and complete', () => {
    it('moves through the tasks, publishes the events, ends, then answers 409', async () => {
        const created = await instance({ tasks: ['Task_1', 'Feedback'] });
        let response = await call(`${created.url}/process/next`, { method: 'PUT' });
        expect(response.status).toBe(200);
        expect(await response.json()).toMatchObject({ currentTask: { elementId: 'Feedback' }, ended: null });
        response = await call(`${created.url}/process/next`, { method: 'PUT' });
        expect(await response.json()).toMatchObject({
            currentTask: null,
            ended: expect.any(String) as string,
            endEvent: 'EndEvent_1',
        });
        response = await call(`${created.url}/process/next`, { method: 'PUT' });
        expect(response.status).toBe(409);
        expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(await response.json()).toEqual({ status: 409, detail: 'Process is ended.', validationIssues: null });
        const body = (await (await call(created.url)).json()) as InstanceJson;
        expect(body.status).toMatchObject({ isArchived: true, archived: expect.any(String) as string });
        const types = (await sim.control.listEvents()).filter((e) => e.source === created.url).map((e) => e.type);
        expect(types).toEqual(['app.instance.process.movedTo.Feedback', 'app.instance.process.completed']);
        expect((await call(`${created.url}/process`)).status).toBe(200);
    });

    it('an instance in a task: GET shows the task and no end, process/next leaves it in the next task, and complete is accepted', async () => {
        // app-lib ProcessEngine: only the end event sets ended and clears currentTask; Storage's
        // AddCompleteConfirmation does not look at the process (dev/simulator/README.md).
        const created = await instance({ tasks: ['Task_1', 'Task_2', 'Task_3'] });
        const process = async () => ((await (await call(created.url)).json()) as InstanceJson).process;
        expect(await process()).toMatchObject({ currentTask: { elementId: 'Task_1' }, ended: null });
        const moved = await call(`${created.url}/process/next`, { method: 'PUT' });
        expect(await moved.json()).toMatchObject({ currentTask: { elementId: 'Task_2', flow: 3 }, ended: null });
        const body = (await (await call(created.url)).json()) as InstanceJson;
        expect(body.process).toMatchObject({ currentTask: { elementId: 'Task_2' }, ended: null, endEvent: null });
        expect(body.status).toMatchObject({ isArchived: false });
        expect((await call(`${created.url}/complete`, { method: 'POST' })).status).toBe(200);
        expect(sim.counters().completes[created.id]).toBe(1);
    });

    it('answers 409 "Validation failed for task" with the validationIssues while validation finds errors', async () => {
        const issues = [
            { severity: 1, code: 'required', description: 'Feltet er påkrevd', field: 'a.b', source: 'Required' },
            { severity: 2, code: 'warn', description: 'Bare en advarsel', source: 'Custom' },
        ];
        const created = await instance({ tasks: ['Task_1', 'Task_2'], validationIssues: issues });
        const response = await call(`${created.url}/process/next`, { method: 'PUT' });
        expect(response.status).toBe(409);
        expect(await response.json()).toEqual({
            title: 'Validation failed for task',
            status: 409,
            detail: '1 validation errors found for task Task_1',
            validationIssues: issues,
        });
        expect(await (await call(`${created.url}/process`)).json()).toMatchObject({
            currentTask: { elementId: 'Task_1' },
        });
    });

    it('sets a substatus, and answers 400 to an empty label', async () => {
        const created = await instance();
        let response = await call(`${created.url}/substatus`, {
            method: 'PUT',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ label: 'some.label', description: 'Beskrivelse' }),
        });
        expect(response.status).toBe(200);
        expect(await response.json()).toMatchObject({
            status: { substatus: { label: 'some.label', description: 'Beskrivelse' } },
        });
        response = await call(`${created.url}/substatus`, {
            method: 'PUT',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ label: '' }),
        });
        expect(response.status).toBe(400);
        expect(await response.json()).toBe(
            'Invalid sub status: {"label":""}. Substatus must be defined and include a label.',
        );
    });

    it("answers a substatus as app-lib does: 500 for a missing instance, no scope needed, only the instance's org", async () => {
        const created = await instance();
        const put = (url: string, as?: string) =>
            call(`${url}/substatus`, {
                method: 'PUT',
                token: as,
                headers: { 'Content-Type': 'application/json' },
                body: JSON.stringify({ label: 'mottatt' }),
            });
        // InstancesController.UpdateSubstatus reads the instance outside its try/catch: Storage's 404 becomes 500.
        const missing = created.url.replace(created.instanceGuid, '00000000-0000-4000-8000-000000000017');
        expect((await put(missing)).status).toBe(500);
        // No scope check, only the org: a token with neither instances scope but the instance's org may set it.
        const orgOnly = await sim.control.issueAltinnToken({ scopes: ['altinn:serviceowner'], org: 'TTD' });
        expect((await put(created.url, orgOnly)).status).toBe(200);
        const otherOrg = await sim.control.issueAltinnToken({
            scopes: ['altinn:serviceowner/instances.write'],
            org: 'skd',
            orgNumber: '974761076',
        });
        expect((await put(created.url, otherOrg)).status).toBe(403);
        const noOrg = await sim.control.issueAltinnToken({
            scopes: ['altinn:serviceowner/instances.write'],
            org: null,
        });
        expect((await put(created.url, noOrg)).status).toBe(403);
    });

    it('completes idempotently: one confirmation, lastChanged moved once, counted per call', async () => {
        const created = await instance({ process: 'completed' });
        const before = ((await (await call(created.url)).json()) as { lastChanged: string }).lastChanged;
        await new Promise((r) => setTimeout(r, 5));
        const post = () =>
            call(`${created.url}/complete`, {
                method: 'POST',
                headers: { 'Content-Type': 'text/plain; charset=utf-8' },
                body: '',
            });
        const first = await post();
        expect(first.status).toBe(200);
        const firstBody = (await first.json()) as InstanceJson;
        expect(firstBody.completeConfirmations).toEqual([
            { stakeholderId: 'ttd', confirmedOn: expect.any(String) as string },
        ]);
        expect(firstBody.lastChanged).not.toBe(before);
        expect(firstBody.selfLinks.apps).toBe(created.url);
        const second = (await (await post()).json()) as InstanceJson;
        expect(second.completeConfirmations).toEqual(firstBody.completeConfirmations);
        expect(second.lastChanged).toBe(firstBody.lastChanged);
        expect(sim.counters().completes[created.id]).toBe(2);
    });

    it('answers 403 to complete without the write scope', async () => {
        const created = await instance();
        const readOnly = await sim.control.issueAltinnToken({ scopes: ['altinn:serviceowner/instances.read'] });
        expect((await call(`${created.url}/complete`, { method: 'POST', token: readOnly })).status).toBe(403);
    });
});
