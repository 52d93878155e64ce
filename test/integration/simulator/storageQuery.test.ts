import { type Simulator } from '../../../dev/simulator/simulator';
import { bearer, registeredAltinnToken, startTestSimulator } from '../../support/simulator';

/* Contract: Storage's instance query for an application owner (altinn-storage InstancesController.GetInstances). */

jest.setTimeout(30_000);

interface QueryResponse {
    count: number;
    self: string;
    next?: string;
    instances: { id: string; appId: string; completeConfirmations?: unknown; data?: unknown[] }[];
}

/** Every page of a query, followed through `next`: the ids in the order Storage gave them. */
async function walk(search: string): Promise<string[]> {
    const seen: string[] = [];
    let url: string | undefined = `${sim.platformUrl}/storage/api/v1/instances?${search}`;
    while (url) {
        const body = (await (await query(url)).json()) as QueryResponse;
        seen.push(...body.instances.map((instance) => instance.id));
        url = body.next;
    }
    return seen;
}

const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, second)).toISOString();

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
        created.push(await sim.control.createInstance({ app: 'query-app', process: 'completed', at: at(i) }));
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

test('orders by lastChanged, then row id ascending; descending, a tie across a page boundary loses rows as the SQL does', async () => {
    // readinstancefromquery.sql: ORDER BY lastChanged DESC, id; next page: lastchanged < t OR (= t AND id < k).
    const older = await sim.control.createInstance({ app: 'tie-app', process: 'completed', at: at(10) });
    const tied = [];
    for (let i = 0; i < 4; i++)
        tied.push(await sim.control.createInstance({ app: 'tie-app', process: 'completed', at: at(20) }));
    const ids = tied.map((instance) => instance.id);
    const base = 'org=ttd&appId=ttd/tie-app&process.isComplete=true&excludeConfirmedBy=ttd&size=2';

    // Page 1: the first two of the tie (row id ascending); page 2 continues below row 2 of the tie:
    // the first comes again, the last two are never returned.
    expect(await walk(base)).toEqual([ids[0], ids[1], ids[0], older.id]);
    // Ascending, the continuation agrees with the order: every row once.
    expect(await walk(`${base}&order=asc:lastChanged`)).toEqual([older.id, ...ids]);
});

test('filters on process.currentTask and leaves the data elements out with includeDataElements=false', async () => {
    const waiting = await sim.control.createInstance({
        app: 'task-app',
        process: 'Feedback',
        dataElements: [{ dataType: 'model', content: '<a/>' }],
    });
    await sim.control.createInstance({ app: 'task-app', process: 'Task_1' });
    await sim.control.createInstance({ app: 'task-app', process: 'completed' });
    const search = 'org=ttd&appId=ttd/task-app&process.currentTask=Feedback&excludeConfirmedBy=ttd';
    const body = (await (await query(search)).json()) as QueryResponse;
    expect(body.instances.map((instance) => instance.id)).toEqual([waiting.id]);
    expect(body.instances[0].data).toHaveLength(1);
    const lean = (await (await query(`${search}&includeDataElements=false`)).json()) as QueryResponse;
    expect(lean.instances.map((instance) => [instance.id, instance.data])).toEqual([[waiting.id, []]]);
    expect((await query(`${search}&includeDataElements=perhaps`)).status).toBe(400);
});
