import { type Simulator } from '../../../dev/simulator/simulator';
import { bearer, registeredAltinnToken, startTestSimulator } from '../../support/simulator';

/* Contract: Storage's instance query for an application owner (altinn-storage InstancesController.GetInstances). */

jest.setTimeout(30_000);

interface QueryResponse {
    count: number;
    self: string;
    next?: string;
    instances: { id: string; appId: string; completeConfirmations?: unknown }[];
}

let sim: Simulator;
let token: string;

beforeAll(async () => {
    sim = await startTestSimulator({ org: 'ttd' });
    token = await registeredAltinnToken(sim);
});

afterAll(() => sim.stop());

function query(search: string, withToken: string | null = token): Promise<Response> {
    const url = search.startsWith('http') ? search : `${sim.platformUrl}/storage/api/v1/instances?${search}`;
    return fetch(url, { headers: { Accept: 'application/json', ...(withToken ? bearer(withToken) : {}) } });
}

test('pages through complete, unconfirmed instances of one app, newest first, following next to the end', async () => {
    const created = [];
    for (let i = 0; i < 5; i++)
        created.push(await sim.control.createInstance({ app: 'query-app', process: 'completed' }));
    await sim.control.createInstance({ app: 'query-app', process: 'Task_1' });
    await sim.control.createInstance({ app: 'other-app', process: 'completed' });
    const confirmed = await sim.control.createInstance({ app: 'query-app', process: 'completed' });
    const complete = await fetch(`${confirmed.url}/complete`, { method: 'POST', headers: bearer(token) });
    expect(complete.status).toBe(200);

    const seen: string[] = [];
    let url: string | undefined =
        `${sim.platformUrl}/storage/api/v1/instances?org=ttd&appId=ttd/query-app&process.isComplete=true&excludeConfirmedBy=ttd&size=2`;
    const counts: number[] = [];
    while (url) {
        const response = await query(url);
        expect(response.status).toBe(200);
        const body = (await response.json()) as QueryResponse;
        expect(body.self.startsWith(`${sim.platformUrl}/storage/api/v1/instances?`)).toBe(true);
        counts.push(body.count);
        seen.push(...body.instances.map((instance) => instance.id));
        url = body.next;
        // The token travels encoded twice, as Storage's BuildRequestLink leaves it.
        if (url) expect(new URL(url).search).toMatch(/continuationToken=\d+%253b\d+$/);
    }
    expect(counts).toEqual([2, 2, 1]);
    expect(seen).toEqual(created.map((instance) => instance.id).reverse());
});

test('refuses what Storage refuses', async () => {
    expect((await query('process.isComplete=true')).status).toBe(400);
    expect(await (await query('process.isComplete=true')).json()).toBe('Org or AppId must be defined.');
    expect((await query('org=ttd', null)).status).toBe(401);
    expect((await query('org=skd')).status).toBe(403);
    expect((await query('org=ttd&process.isComplete=maybe')).status).toBe(400);
    const writeOnly = await registeredAltinnToken(sim, ['altinn:serviceowner/instances.write']);
    expect((await query('org=ttd', writeOnly)).status).toBe(403);
});
