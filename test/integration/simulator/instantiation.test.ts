import { HttpControlClient } from '../../../dev/simulator/controlClient';
import { type Simulator } from '../../../dev/simulator/simulator';
import { bearer, registeredAltinnToken, SERVICEOWNER_SCOPES, startTestSimulator } from '../../support/simulator';

/*
 * Contract: instantiation as the service owner (app-lib InstancesController.Post) and process/next on
 * tasks the owner org may not finish (ProcessEngineAuthorizer, SigningTaskValidator), as `aos smoke`
 * uses them. See dev/simulator/README.md for the sources.
 */

jest.setTimeout(30_000);

let sim: Simulator;
let token: string;

beforeAll(async () => {
    sim = await startTestSimulator({
        org: 'ttd',
        apps: [
            { app: 'form', tasks: ['Task_1', { id: 'Task_2', type: 'feedback' }], dataTypes: ['model'] },
            { app: 'signed', tasks: ['Task_1', { id: 'Task_2', type: 'signing' }] },
        ],
    });
    token = await registeredAltinnToken(sim, SERVICEOWNER_SCOPES);
});

afterAll(() => sim.stop());

function instantiate(app: string, body?: unknown, query = '', auth = token): Promise<Response> {
    return fetch(`${sim.appsUrl}/ttd/${app}/instances${query}`, {
        method: 'POST',
        headers: {
            Accept: 'application/json',
            ...bearer(auth),
            ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
}

function processNext(instanceUrl: string): Promise<Response> {
    return fetch(`${instanceUrl}/process/next`, {
        method: 'PUT',
        headers: { Accept: 'application/json', ...bearer(token) },
    });
}

interface InstanceJson {
    id: string;
    appId: string;
    instanceOwner: { partyId: string; organisationNumber: string | null; party: unknown };
    process: { currentTask: { elementId: string; altinnTaskType: string } | null; ended: string | null };
    selfLinks: { apps: string };
}

describe('POST /{org}/{app}/instances', () => {
    it('creates an instance for an organisation, at the first task, and answers 201 InstanceResponse', async () => {
        const response = await instantiate('form', { instanceOwner: { organisationNumber: '910000001' } });
        expect(response.status).toBe(201);
        const instance = (await response.json()) as InstanceJson;
        expect(response.headers.get('location')).toBe(instance.selfLinks.apps);
        expect(instance).toMatchObject({
            appId: 'ttd/form',
            instanceOwner: { organisationNumber: '910000001', party: expect.any(Object) as object },
            process: { currentTask: { elementId: 'Task_1', altinnTaskType: 'data' }, ended: null },
        });
        const events = await sim.control.listEvents();
        expect(events.map((event) => [event.type, event.source])).toContainEqual([
            'app.instance.created',
            instance.selfLinks.apps,
        ]);
        // The same organisation is the same party the next time (Register's lookup).
        const again = (await (
            await instantiate('form', { instanceOwner: { organisationNumber: '910000001' } })
        ).json()) as InstanceJson;
        expect(again.instanceOwner.partyId).toBe(instance.instanceOwner.partyId);
    });

    it('takes the owner as instanceOwnerPartyId in the query', async () => {
        const response = await instantiate('form', undefined, '?instanceOwnerPartyId=50009999');
        expect(response.status).toBe(201);
        expect(((await response.json()) as InstanceJson).id).toMatch(/^50009999\//);
    });

    it("answers app-lib's 400s for a missing or doubled owner", async () => {
        const none = await instantiate('form');
        expect(none.status).toBe(400);
        expect(await none.text()).toContain('Cannot create an instance without an instanceOwner.partyId.');
        const both = await instantiate(
            'form',
            { instanceOwner: { partyId: '50009999' } },
            '?instanceOwnerPartyId=50009999',
        );
        expect(both.status).toBe(400);
        expect(await both.text()).toContain('You cannot provide an instanceOwnerPartyId as a query param as well');
        const empty = await instantiate('form', { instanceOwner: {} });
        expect(empty.status).toBe(400);
        expect(await empty.text()).toContain('InstanceOwner is missing from instance template');
    });

    it('refuses an org without the write scope (403), and answers 404 for an app that is not deployed', async () => {
        const readOnly = await sim.control.issueAltinnToken({ scopes: ['altinn:serviceowner/instances.read'] });
        expect(
            (await instantiate('form', { instanceOwner: { organisationNumber: '910000001' } }, '', readOnly)).status,
        ).toBe(403);
        expect((await instantiate('nowhere', { instanceOwner: { organisationNumber: '910000001' } })).status).toBe(404);
    });

    it('is registered over the control API too', async () => {
        await new HttpControlClient(sim.platformUrl).registerApp({ app: 'late' });
        expect((await instantiate('late', undefined, '?instanceOwnerPartyId=50001234')).status).toBe(201);
    });
});

describe('PUT process/next by the owner org', () => {
    it('moves through data and feedback tasks to the end', async () => {
        const instance = (await (
            await instantiate('form', undefined, '?instanceOwnerPartyId=50002000')
        ).json()) as InstanceJson;
        const first = await processNext(instance.selfLinks.apps);
        expect(first.status).toBe(200);
        expect(await first.json()).toMatchObject({ currentTask: { elementId: 'Task_2', altinnTaskType: 'feedback' } });
        const second = await processNext(instance.selfLinks.apps);
        expect(await second.json()).toMatchObject({ currentTask: null, ended: expect.any(String) as string });
    });

    it('is refused at a signing task: 409 with MissingSignatures', async () => {
        const instance = (await (
            await instantiate('signed', undefined, '?instanceOwnerPartyId=50002001')
        ).json()) as InstanceJson;
        expect((await processNext(instance.selfLinks.apps)).status).toBe(200);
        const refused = await processNext(instance.selfLinks.apps);
        expect(refused.status).toBe(409);
        expect(await refused.json()).toMatchObject({
            title: 'Validation failed for task',
            validationIssues: [{ severity: 1, code: 'MissingSignatures' }],
        });
    });

    it('is refused at a confirmation task: 403 ProblemDetails, the org has no confirm right', async () => {
        await sim.control.registerApp({ app: 'confirmed', tasks: [{ id: 'Task_1', type: 'confirmation' }] });
        const instance = (await (
            await instantiate('confirmed', undefined, '?instanceOwnerPartyId=50002002')
        ).json()) as InstanceJson;
        const refused = await processNext(instance.selfLinks.apps);
        expect(refused.status).toBe(403);
        expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(await refused.json()).toEqual({
            title: 'Unauthorized',
            status: 403,
            detail: 'User is not authorized to perform process next. Task ID: Task_1. Task type: confirmation. Action: none.',
        });
    });
});

describe('GET /storage/api/v1/applications/{org}/{app} (Storage ApplicationsController.GetOne)', () => {
    const application = (app: string) =>
        fetch(`${sim.platformUrl}/storage/api/v1/applications/ttd/${app}`, { headers: { Accept: 'application/json' } });

    it('answers a deployed app anonymously, with its id and data types', async () => {
        const response = await application('form');
        expect(response.status).toBe(200);
        expect(await response.json()).toMatchObject({ id: 'ttd/form', org: 'ttd', dataTypes: [{ id: 'model' }] });
    });

    it('answers 404 with its text for an app that was never deployed', async () => {
        const response = await application('never-deployed');
        expect(response.status).toBe(404);
        expect(await response.json()).toBe('Could not find an application with appId=ttd/never-deployed');
    });
});
