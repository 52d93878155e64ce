import { type Simulator } from '../../../dev/simulator/simulator';
import { type CloudEvent } from '../../../dev/simulator/types';
import {
    bearer,
    registeredAltinnToken,
    startReceiver,
    startTestSimulator,
    waitUntil,
    type Receiver,
    SERVICEOWNER_SCOPES,
} from '../../support/simulator';

/* Contract: Altinn Events subscriptions, validation, push with retries, query API, publishing (altinn-api.md §1). */

// Generous: RSA key generation and real sockets are slow on a loaded machine.
jest.setTimeout(30_000);

let sim: Simulator;
let token: string;
let receiver: Receiver;

beforeAll(async () => {
    sim = await startTestSimulator({ org: 'ttd', orgNumber: '405003309' });
    token = await registeredAltinnToken(sim);
});

beforeEach(async () => {
    receiver = await startReceiver();
});

afterEach(() => receiver.stop());

afterAll(() => sim.stop());

function subscribe(body: Record<string, unknown>, auth: string = token): Promise<Response> {
    return fetch(`${sim.platformUrl}/events/api/v1/subscriptions`, {
        method: 'POST',
        headers: { ...bearer(auth), 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
    });
}

function sourceFilter(app = 'apps-test'): string {
    return `${sim.appsUrl}/ttd/${app}`;
}

async function validatedSubscription(body: Record<string, unknown>): Promise<number> {
    const response = await subscribe(body);
    expect(response.status).toBe(201);
    const { id } = (await response.json()) as { id: number };
    await waitUntil(async () =>
        (await sim.control.listSubscriptions()).find((s) => s.id === id)?.validated ? true : undefined,
    );
    return id;
}

describe('POST /events/api/v1/subscriptions', () => {
    it('creates an app subscription: 201, singular Location, body with derived resourceFilter', async () => {
        const response = await subscribe({
            endPoint: `${receiver.url}/api/eventsreceiver?code=abc`,
            sourceFilter: sourceFilter(),
            typeFilter: 'app.instance.process.completed',
        });
        expect(response.status).toBe(201);
        const body = (await response.json()) as Record<string, unknown>;
        expect(response.headers.get('location')).toBe(`/events/api/v1/subscription/${body.id as number}`);
        expect(body).toEqual({
            id: expect.any(Number) as number,
            endPoint: `${receiver.url}/api/eventsreceiver?code=abc`,
            sourceFilter: sourceFilter(),
            resourceFilter: 'urn:altinn:resource:app_ttd_apps-test',
            typeFilter: 'app.instance.process.completed',
            consumer: '/org/ttd',
            createdBy: '/org/ttd',
            created: expect.any(String) as string,
            validated: false,
            includeSubunits: false,
        });
    });

    it('sends the validation event and marks the subscription validated on 2xx', async () => {
        receiver.defaultStatus = 202;
        const response = await subscribe({ endpoint: `${receiver.url}/hook?code=k`, sourceFilter: sourceFilter() });
        const { id } = (await response.json()) as { id: number };
        const [request] = await receiver.waitFor(1);
        expect(request.method).toBe('POST');
        expect(request.url).toBe('/hook?code=k');
        expect(request.headers['content-type']).toBe('application/json; charset=utf-8');
        expect(request.headers.authorization).toBeUndefined();
        const event = JSON.parse(request.body) as Record<string, unknown>;
        expect(Object.keys(event)).toEqual(['specversion', 'id', 'source', 'type']);
        expect(event).toMatchObject({
            specversion: '1.0',
            source: `${sim.platformUrl}/events/api/v1/subscriptions/${id}`,
            type: 'platform.events.validatesubscription',
        });
        await waitUntil(async () =>
            (await sim.control.listSubscriptions()).find((s) => s.id === id)?.validated ? true : undefined,
        );
    });

    it('retries the validation on the documented schedule until it gets 2xx', async () => {
        receiver.respond = [500, 404, 503];
        const response = await subscribe({ endPoint: `${receiver.url}/v`, sourceFilter: sourceFilter() });
        const { id } = (await response.json()) as { id: number };
        const requests = await receiver.waitFor(4);
        const gaps = requests.slice(1).map((r, i) => r.at - requests[i].at);
        // 1 s, 5 s, 10 s scaled by 0.001
        expect(gaps[0]).toBeGreaterThanOrEqual(1);
        expect(gaps[1]).toBeGreaterThanOrEqual(4);
        expect(gaps[2]).toBeGreaterThanOrEqual(9);
        await waitUntil(async () =>
            (await sim.control.listSubscriptions()).find((s) => s.id === id)?.validated ? true : undefined,
        );
        const delivery = (await sim.control.listDeliveries()).find(
            (d) => d.subscriptionId === id && d.kind === 'validation',
        );
        expect(delivery?.attempts.map((a) => a.status)).toEqual([500, 404, 503, 200]);
        expect(delivery?.state).toBe('delivered');
    });

    it('gives up validating after 9 attempts and never pushes to the unvalidated subscription', async () => {
        receiver.defaultStatus = 500;
        const response = await subscribe({
            endPoint: `${receiver.url}/never`,
            sourceFilter: sourceFilter('never-app'),
        });
        const { id } = (await response.json()) as { id: number };
        await waitUntil(
            async () =>
                (await sim.control.listDeliveries()).find((d) => d.subscriptionId === id)?.state === 'failed'
                    ? true
                    : undefined,
            5000,
        );
        expect(receiver.received).toHaveLength(9);
        const created = await sim.control.createInstance({ app: 'never-app', process: 'completed', publish: true });
        await new Promise((r) => setTimeout(r, 100));
        expect(receiver.received.filter((r) => r.body.includes(created.instanceGuid))).toHaveLength(0);
    });

    it('returns the existing subscription for an identical request, and validates again', async () => {
        const body = { endPoint: `${receiver.url}/same`, sourceFilter: sourceFilter(), subjectFilter: '/party/1' };
        const first = (await (await subscribe(body)).json()) as { id: number };
        const second = await subscribe(body);
        expect(second.status).toBe(201);
        expect(((await second.json()) as { id: number }).id).toBe(first.id);
        await receiver.waitFor(2);
    });

    it.each([
        [{ endPoint: 'ftp://x/y' }, 'Missing or invalid endpoint to push events towards'],
        [{ endPoint: 'http://example.com/hook' }, 'Missing or invalid endpoint to push events towards'],
        [{ endPoint: '/relative' }, 'Missing or invalid endpoint to push events towards'],
        [
            { endPoint: 'https://example.com/h', sourceFilter: 'http://example.com/ttd/app' },
            'SourceFilter must be an absolute URL with the https scheme.',
        ],
        [{ endPoint: 'https://example.com/h', resourceFilter: 'app_ttd_x' }, 'Resource filter must be a valid urn'],
    ])('answers 400 %j', async (body, message) => {
        const response = await subscribe(
            body,
            await sim.control.issueAltinnToken({ scopes: ['altinn:events.subscribe', ...SERVICEOWNER_SCOPES] }),
        );
        expect(response.status).toBe(400);
        expect(response.headers.get('content-type')).toMatch(/^application\/json/);
        expect(await response.json()).toBe(message);
    });

    it('accepts an https endpoint and http only on loopback', async () => {
        expect((await subscribe({ endPoint: 'https://example.com/hook', sourceFilter: sourceFilter() })).status).toBe(
            201,
        );
        expect((await subscribe({ endPoint: 'http://localhost:1/hook', sourceFilter: sourceFilter() })).status).toBe(
            201,
        );
        expect((await subscribe({ endPoint: 'http://[::1]:1/hook', sourceFilter: sourceFilter() })).status).toBe(201);
    });

    it('applies the app rules: source path, trailing slash, subject, resource compatibility, org', async () => {
        const hook = 'https://example.com/hook';
        const expect400 = async (body: Record<string, unknown>, message: string, auth?: string) => {
            const response = await subscribe(body, auth);
            expect(response.status).toBe(400);
            expect(await response.json()).toBe(message);
        };
        const appIdMessage = 'A valid app id is required in source filter {environment}/{org}/{app}';
        await expect400({ endPoint: hook, sourceFilter: `${sourceFilter()}/` }, appIdMessage);
        await expect400({ endPoint: hook, sourceFilter: `${sim.appsUrl}/ttd` }, appIdMessage);
        await expect400({ endPoint: hook, sourceFilter: `${sourceFilter()}/instances` }, appIdMessage);
        await expect400(
            { endPoint: hook, sourceFilter: sourceFilter(), resourceFilter: 'urn:altinn:resource:app_ttd_other' },
            'Provided resource filter and source filter are not compatible',
        );
        const noOrg = await sim.control.issueAltinnToken({ scopes: ['altinn:serviceowner/instances.read'], org: null });
        await expect400(
            { endPoint: hook, sourceFilter: sourceFilter() },
            'A valid subject to the authenticated identity is required',
            noOrg,
        );
        const foreign = await subscribe({ endPoint: hook, resourceFilter: 'urn:altinn:resource:app_skd_app' });
        expect(foreign.status).toBe(403);
        expect(await foreign.json()).toBe(
            'Not authorized to create a subscription for resource urn:altinn:resource:app_skd_app.',
        );
    });

    it('converts alternativeSubjectFilter to a party subject and never returns it', async () => {
        const created = await sim.control.createInstance({ app: 'apps-test', personNumber: '24054512345' });
        const response = await subscribe({
            endPoint: 'https://example.com/h',
            sourceFilter: sourceFilter(),
            alternativeSubjectFilter: '/person/24054512345',
        });
        const body = (await response.json()) as Record<string, unknown>;
        expect(body.subjectFilter).toBe(`/party/${created.partyId}`);
        expect(body.alternativeSubjectFilter).toBeUndefined();
    });

    it('refuses an alternativeSubjectFilter that Register cannot resolve, also from an org', async () => {
        const response = await subscribe({
            endPoint: 'https://example.com/h',
            sourceFilter: sourceFilter(),
            alternativeSubjectFilter: '/person/99999999999',
        });
        expect(response.status).toBe(400);
        expect(await response.json()).toBe('A valid subject to the authenticated identity is required');
    });

    it('refuses includeSubunits without a subject filter, for app and for generic subscriptions', async () => {
        const hook = 'https://example.com/hook';
        const app = await subscribe({ endPoint: hook, sourceFilter: sourceFilter(), includeSubunits: true });
        expect(app.status).toBe(400);
        expect(await app.json()).toBe('IncludeSubunits requires a subject filter.');
        const subscriber = await sim.control.issueAltinnToken({ scopes: ['altinn:events.subscribe'] });
        const broker = { endPoint: hook, resourceFilter: 'urn:altinn:resource:my-broker-resource' };
        const generic = await subscribe({ ...broker, includeSubunits: true }, subscriber);
        expect(generic.status).toBe(400);
        expect(await generic.json()).toBe('IncludeSubunits requires a subject filter.');
        const withSubject = await subscribe(
            { ...broker, includeSubunits: true, subjectFilter: 'urn:altinn:organization:identifier-no:405003309' },
            subscriber,
        );
        expect(withSubject.status).toBe(201);
    });

    it('stores the resourceFilter lowercased and URLs as absolute URIs, and finds a repeat the same way', async () => {
        const first = await subscribe({
            endPoint: 'https://EXAMPLE.com/h',
            sourceFilter: sourceFilter('Case-App').replace('http://', 'HTTP://'),
            resourceFilter: 'urn:altinn:resource:app_ttd_Case-App',
        });
        expect(first.status).toBe(201);
        const body = (await first.json()) as Record<string, unknown>;
        expect(body).toMatchObject({
            endPoint: 'https://example.com/h',
            sourceFilter: sourceFilter('Case-App'),
            resourceFilter: 'urn:altinn:resource:app_ttd_case-app',
        });
        const again = await subscribe({ endPoint: 'https://example.com/h', sourceFilter: sourceFilter('Case-App') });
        expect(((await again.json()) as { id: number }).id).toBe(body.id);
        // Compared with the source filter before it is lowercased: another case is incompatible.
        const mismatch = await subscribe({
            endPoint: 'https://example.com/h',
            sourceFilter: sourceFilter('Case-App'),
            resourceFilter: 'urn:altinn:resource:app_ttd_case-app',
        });
        expect(mismatch.status).toBe(400);
    });

    it('requires altinn:events.subscribe (403) and a resourceFilter for generic subscriptions', async () => {
        const hook = 'https://example.com/hook';
        const broker = 'urn:altinn:resource:my-broker-resource';
        expect((await subscribe({ endPoint: hook, resourceFilter: broker })).status).toBe(403);
        const subscriber = await sim.control.issueAltinnToken({ scopes: ['altinn:events.subscribe'] });
        const expect400 = async (body: Record<string, unknown>, message: string) => {
            const response = await subscribe(body, subscriber);
            expect(response.status).toBe(400);
            expect(await response.json()).toBe(message);
        };
        await expect400({ endPoint: hook }, 'Resource filter is required.');
        await expect400(
            { endPoint: hook, resourceFilter: broker, sourceFilter: 'https://example.com/x/y' },
            'Source filter is not supported for subscriptions on this resource.',
        );
        await expect400(
            { endPoint: hook, resourceFilter: broker, alternativeSubjectFilter: '/org/405003309' },
            'AlternativeSubject filter is not supported for subscriptions on this resource.',
        );
        const ok = await subscribe(
            {
                endPoint: hook,
                resourceFilter: broker,
                subjectFilter: 'urn:altinn:organization:identifier-no:405003309',
            },
            subscriber,
        );
        expect(ok.status).toBe(201);
        expect(await ok.json()).toMatchObject({ consumer: '/organisation/405003309', resourceFilter: broker });
        const otherSubject = await subscribe(
            {
                endPoint: hook,
                resourceFilter: broker,
                subjectFilter: 'urn:altinn:organization:identifier-no:999999999',
            },
            subscriber,
        );
        expect(otherSubject.status).toBe(403);
    });

    it('answers 401 without a valid Altinn token, 415 for a non-JSON body', async () => {
        expect((await subscribe({ endPoint: 'https://example.com/h' }, 'nope')).status).toBe(401);
        const mp = await sim.control.issueMaskinportenToken({ scopes: SERVICEOWNER_SCOPES });
        expect((await subscribe({ endPoint: 'https://example.com/h' }, mp)).status).toBe(401);
        const response = await fetch(`${sim.platformUrl}/events/api/v1/subscriptions`, {
            method: 'POST',
            headers: { ...bearer(token), 'Content-Type': 'text/plain' },
            body: '{}',
        });
        expect(response.status).toBe(415);
    });
});

describe('GET/DELETE /events/api/v1/subscriptions', () => {
    it('gets, lists (including unvalidated) and deletes; 404 unknown, 403 for another consumer', async () => {
        receiver.defaultStatus = 500;
        const created = (await (
            await subscribe({ endPoint: `${receiver.url}/x`, sourceFilter: sourceFilter('list-app') })
        ).json()) as { id: number };
        const url = `${sim.platformUrl}/events/api/v1/subscriptions`;
        const get = await fetch(`${url}/${created.id}`, { headers: bearer(token) });
        expect(get.status).toBe(200);
        expect(await get.json()).toMatchObject({ id: created.id, validated: false });
        const list = (await (await fetch(url, { headers: bearer(token) })).json()) as {
            count: number;
            subscriptions: { id: number }[];
        };
        expect(list.count).toBe(list.subscriptions.length);
        expect(list.subscriptions.map((s) => s.id)).toContain(created.id);
        const other = await sim.control.issueAltinnToken({ scopes: SERVICEOWNER_SCOPES, org: 'skd' });
        expect((await fetch(`${url}/${created.id}`, { headers: bearer(other) })).status).toBe(403);
        expect((await fetch(`${url}/${created.id}`, { method: 'DELETE', headers: bearer(other) })).status).toBe(403);
        const otherList = (await (await fetch(url, { headers: bearer(other) })).json()) as { count: number };
        expect(otherList.count).toBe(0);
        const del = await fetch(`${url}/${created.id}`, { method: 'DELETE', headers: bearer(token) });
        expect(del.status).toBe(200);
        expect(await del.text()).toBe('');
        expect((await fetch(`${url}/${created.id}`, { headers: bearer(token) })).status).toBe(404);
        expect((await fetch(`${url}/999999`, { method: 'DELETE', headers: bearer(token) })).status).toBe(404);
        // The deleted subscription's pending validation retries stop.
        const delivery = (await sim.control.listDeliveries()).find((d) => d.subscriptionId === created.id);
        expect(delivery?.state).toBe('cancelled');
    });
});

describe('push', () => {
    it('pushes matching events only, to validated subscriptions, as structured JSON', async () => {
        const completedOnly = await validatedSubscription({
            endPoint: `${receiver.url}/completed`,
            sourceFilter: sourceFilter('push-app'),
            typeFilter: 'app.instance.process.completed',
        });
        const all = await validatedSubscription({
            endPoint: `${receiver.url}/all`,
            sourceFilter: sourceFilter('push-app'),
        });
        receiver.received.length = 0;
        const done = await sim.control.createInstance({
            app: 'push-app',
            personNumber: '01017012345',
            process: 'completed',
            publish: true,
        });
        const moved = await sim.control.createInstance({ app: 'push-app', process: 'Task_2', publish: true });
        await sim.control.createInstance({ app: 'other-app', process: 'completed', publish: true });
        await sim.control.publishEvent({
            event: {
                type: 'app.instance.process.completed',
                source: `${sim.appsUrl}/ttd/push-app-2/instances/1/${done.instanceGuid}`,
            },
        });
        await receiver.waitFor(3);
        await new Promise((r) => setTimeout(r, 50));
        expect(receiver.received.map((r) => r.url).sort()).toEqual(['/all', '/all', '/completed']);
        const pushed = JSON.parse(receiver.received.find((r) => r.url === '/completed')?.body ?? '{}') as CloudEvent;
        expect(Object.keys(pushed)).toEqual([
            'specversion',
            'id',
            'time',
            'source',
            'subject',
            'type',
            'resource',
            'resourceinstance',
            'alternativesubject',
        ]);
        expect(pushed).toMatchObject({
            source: done.url,
            subject: `/party/${done.partyId}`,
            type: 'app.instance.process.completed',
            resource: 'urn:altinn:resource:app_ttd_push-app',
            resourceinstance: done.id,
            alternativesubject: '/person/01017012345',
        });
        expect(
            receiver.received.some((r) => r.body.includes(moved.instanceGuid) && r.body.includes('movedTo.Task_2')),
        ).toBe(true);
        const counters = sim.counters().deliveries;
        expect(counters[String(completedOnly)][pushed.id]).toEqual({
            attempts: 1,
            statuses: [200],
            state: 'delivered',
        });
        expect(Object.keys(counters[String(all)])).toHaveLength(3);
    });

    it('matches the subject filter', async () => {
        const a = await sim.control.createInstance({ app: 'subject-app' });
        const b = await sim.control.createInstance({ app: 'subject-app' });
        await validatedSubscription({
            endPoint: `${receiver.url}/s`,
            sourceFilter: sourceFilter('subject-app'),
            subjectFilter: `/party/${a.partyId}`,
        });
        receiver.received.length = 0;
        await sim.control.moveProcess(b.id, { to: 'completed' });
        await sim.control.moveProcess(a.id, { to: 'completed' });
        const [request] = await receiver.waitFor(1);
        await new Promise((r) => setTimeout(r, 50));
        expect(receiver.received).toHaveLength(1);
        expect(request.body).toContain(a.instanceGuid);
    });

    it('retries a failing push on the documented schedule until 2xx', async () => {
        const id = await validatedSubscription({
            endPoint: `${receiver.url}/retry`,
            sourceFilter: sourceFilter('retry-app'),
        });
        receiver.received.length = 0;
        receiver.respond = [500, 503, 429];
        const created = await sim.control.createInstance({ app: 'retry-app', process: 'completed', publish: true });
        const requests = await receiver.waitFor(4);
        const gaps = requests.slice(1).map((r, i) => r.at - requests[i].at);
        expect(gaps[0]).toBeGreaterThanOrEqual(9); // 10 s
        expect(gaps[1]).toBeGreaterThanOrEqual(29); // 30 s
        expect(gaps[2]).toBeGreaterThanOrEqual(59); // 1 min
        const counters = await waitUntil(() => {
            const c = sim.counters().deliveries[String(id)][created.events[0].id];
            return c.state === 'delivered' ? c : undefined;
        });
        expect(counters).toEqual({ attempts: 4, statuses: [500, 503, 429, 200], state: 'delivered' });
    });

    it('dead-letters after 12 attempts (10 s ... 12 h, scaled)', async () => {
        const fast = await startTestSimulator({ timeScale: 0.000005 });
        try {
            const auth = await registeredAltinnToken(fast);
            receiver.respond = [200];
            receiver.defaultStatus = 500;
            const response = await fetch(`${fast.platformUrl}/events/api/v1/subscriptions`, {
                method: 'POST',
                headers: { ...bearer(auth), 'Content-Type': 'application/json' },
                body: JSON.stringify({
                    endPoint: `${receiver.url}/dead`,
                    sourceFilter: `${fast.appsUrl}/ttd/dead-app`,
                }),
            });
            expect(response.status).toBe(201);
            await receiver.waitFor(1);
            await waitUntil(async () => ((await fast.control.listSubscriptions())[0]?.validated ? true : undefined));
            await fast.control.createInstance({ app: 'dead-app', process: 'completed', publish: true });
            const delivery = await waitUntil(
                async () =>
                    (await fast.control.listDeliveries()).find((d) => d.kind === 'event' && d.state === 'deadLettered'),
                5000,
            );
            expect(delivery.attempts).toHaveLength(12);
            expect(receiver.received).toHaveLength(13);
        } finally {
            await fast.stop();
        }
    });

    it('does not push events published with deliver: false (a lost webhook), but the query API has them', async () => {
        await validatedSubscription({ endPoint: `${receiver.url}/lost`, sourceFilter: sourceFilter('lost-app') });
        receiver.received.length = 0;
        const created = await sim.control.createInstance({
            app: 'lost-app',
            process: 'completed',
            publish: true,
            deliver: false,
        });
        await new Promise((r) => setTimeout(r, 50));
        expect(receiver.received).toHaveLength(0);
        const response = await fetch(`${sim.platformUrl}/events/api/v1/app/ttd/lost-app?after=0`, {
            headers: bearer(token),
        });
        expect(((await response.json()) as CloudEvent[]).map((e) => e.id)).toEqual([created.events[0].id]);
    });

    it('stops a push that hangs after the delivery timeout and retries', async () => {
        const slow = await startTestSimulator({ deliveryTimeoutMs: 50 });
        try {
            const auth = await registeredAltinnToken(slow);
            receiver.delayMs = 0;
            await fetch(`${slow.platformUrl}/events/api/v1/subscriptions`, {
                method: 'POST',
                headers: { ...bearer(auth), 'Content-Type': 'application/json' },
                body: JSON.stringify({
                    endPoint: `${receiver.url}/slow`,
                    sourceFilter: `${slow.appsUrl}/ttd/slow-app`,
                }),
            });
            await waitUntil(async () => ((await slow.control.listSubscriptions())[0]?.validated ? true : undefined));
            receiver.delayMs = 200;
            await slow.control.createInstance({ app: 'slow-app', process: 'completed', publish: true });
            const delivery = await waitUntil(async () =>
                (await slow.control.listDeliveries()).find((d) => d.kind === 'event' && d.attempts.length >= 1),
            );
            expect(delivery.attempts[0].error).toMatch(/timeout/);
        } finally {
            await slow.stop();
        }
    });
});

describe('GET /events/api/v1/app/{org}/{app}', () => {
    const url = (query: string, app = 'query-app') => `${sim.platformUrl}/events/api/v1/app/ttd/${app}${query}`;

    it('answers 400 ProblemDetails with the documented details', async () => {
        const cases: [string, string][] = [
            ['', "The 'From' or 'After' parameter must be defined."],
            [
                '?from=2024-01-01T10:00:00',
                "The 'From' parameter must specify timezone. E.g. 2022-07-07T11:00:53.3917Z for UTC",
            ],
            [
                '?after=x&to=2024-01-01',
                "The 'To' parameter must specify timezone. E.g. 2022-07-07T11:00:53.3917Z for UTC",
            ],
            ['?after=x&size=0', "The 'Size' parameter must be a number larger that 0."],
            ['?after=x&unit=123', "Value of 'Unit' needs to be exactly 9 digits."],
            ['?after=x&unit=123456789&party=5', "Only one of 'Party' or 'Unit' can be defined."],
        ];
        for (const [query, detail] of cases) {
            const response = await fetch(url(query), { headers: bearer(token) });
            expect(response.status).toBe(400);
            expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
            expect(await response.json()).toMatchObject({ status: 400, detail });
        }
        const person = await fetch(url('?after=x&party=5'), { headers: { ...bearer(token), person: '01017012345' } });
        expect(await person.json()).toMatchObject({ detail: "Only one of 'Party' or 'Person' can be defined." });
    });

    it('answers 401 "Only orgs can call this api" without an org claim, and 401 without a token', async () => {
        const noOrg = await sim.control.issueAltinnToken({ scopes: ['altinn:serviceowner/instances.read'], org: null });
        const response = await fetch(url('?after=0'), { headers: bearer(noOrg) });
        expect(response.status).toBe(401);
        expect(await response.json()).toBe('Only orgs can call this api');
        expect((await fetch(url('?after=0'))).status).toBe(401);
    });

    it('pages with size and the next header until empty', async () => {
        const events: string[] = [];
        for (let i = 0; i < 5; i++) {
            const created = await sim.control.createInstance({ app: 'query-app', process: 'completed', publish: true });
            events.push(created.events[0].id);
        }
        const seen: string[] = [];
        let next: string | null = url('?after=0&size=2&type=app.instance.process.completed');
        let pages = 0;
        while (next) {
            const response: Response = await fetch(next, { headers: bearer(token) });
            expect(response.status).toBe(200);
            expect(response.headers.get('content-type')).toBe('application/cloudevents+json; charset=utf-8');
            const page = (await response.json()) as CloudEvent[];
            pages++;
            if (page.length === 0) {
                expect(response.headers.get('next')).toBeNull();
                break;
            }
            seen.push(...page.map((e) => e.id));
            next = response.headers.get('next');
            expect(next).toBe(
                `${url('')}?after=${page[page.length - 1].id}&size=2&type=app.instance.process.completed`,
            );
        }
        expect(seen).toEqual(events);
        expect(pages).toBe(4);
    });

    it('filters by from/to, repeated type, party and person, and returns [] for another org', async () => {
        const start = new Date().toISOString();
        const a = await sim.control.createInstance({
            app: 'filter-app',
            personNumber: '11111111111',
            process: 'completed',
            publish: true,
        });
        const b = await sim.control.createInstance({ app: 'filter-app', process: 'Task_2', publish: true });
        const get = async (query: string, headers: Record<string, string> = {}) =>
            (
                (await (
                    await fetch(url(query, 'filter-app'), { headers: { ...bearer(token), ...headers } })
                ).json()) as CloudEvent[]
            ).map((e) => e.id);
        expect(await get(`?from=${encodeURIComponent(start)}`)).toEqual([a.events[0].id, b.events[0].id]);
        expect(await get(`?from=${encodeURIComponent(start)}&to=2000-01-01T00:00:00Z`)).toEqual([]);
        expect(await get('?after=0&type=app.instance.process.movedTo.Task_2')).toEqual([b.events[0].id]);
        expect(
            await get('?after=0&type=APP.instance.process.completed&type=app.instance.process.movedTo.Task_2'),
        ).toEqual([a.events[0].id, b.events[0].id]);
        expect(await get('?after=0&type=app.instance.process.%25')).toHaveLength(2);
        expect(await get(`?after=0&party=${b.partyId}`)).toEqual([b.events[0].id]);
        expect(await get('?after=0', { person: '11111111111' })).toEqual([a.events[0].id]);
        expect(await get(`?after=${a.events[0].id}`)).toEqual([b.events[0].id]);
        // unit and person are looked up to the party and filter on the subject; Register's 404 for an unknown one.
        const unit = await sim.control.createInstance({
            app: 'filter-app',
            organisationNumber: '910000001',
            process: 'Task_2',
            publish: true,
        });
        expect(await get('?after=0&unit=910000001')).toEqual([unit.events[0].id]);
        const unknown = await fetch(url('?after=0&unit=999999999', 'filter-app'), { headers: bearer(token) });
        expect(unknown.status).toBe(404);
        const unknownPerson = await fetch(url('?after=0', 'filter-app'), {
            headers: { ...bearer(token), person: '1' },
        });
        expect(unknownPerson.status).toBe(404);
        const other = await sim.control.issueAltinnToken({ scopes: SERVICEOWNER_SCOPES, org: 'skd' });
        const response = await fetch(url('?after=0', 'filter-app'), { headers: bearer(other) });
        expect(await response.json()).toEqual([]);
    });

    it('hides events younger than the visibility delay while an older one exists', async () => {
        const delayed = await startTestSimulator({ eventsQueryDelaySeconds: 0.2 });
        try {
            const auth = await delayed.control.issueAltinnToken({ scopes: SERVICEOWNER_SCOPES });
            const first = await delayed.control.createInstance({ app: 'd', process: 'completed', publish: true });
            const query = () =>
                fetch(`${delayed.platformUrl}/events/api/v1/app/ttd/d?after=0`, { headers: bearer(auth) }).then(
                    async (r) => ((await r.json()) as CloudEvent[]).map((e) => e.id),
                );
            // No event is old enough yet: the real SQL then applies no upper bound.
            expect(await query()).toEqual([first.events[0].id]);
            await new Promise((r) => setTimeout(r, 250));
            await delayed.control.createInstance({ app: 'd', process: 'completed', publish: true });
            expect(await query()).toEqual([first.events[0].id]);
        } finally {
            await delayed.stop();
        }
    });
});

describe('POST /events/api/v1/app', () => {
    const publish = (body: unknown, auth = token) =>
        fetch(`${sim.platformUrl}/events/api/v1/app`, {
            method: 'POST',
            headers: { ...bearer(auth), 'Content-Type': 'application/json', PlatformAccessToken: 'not-checked' },
            body: JSON.stringify(body),
        });

    it('registers an app event: 201, Location = subject, body = JSON string id, resource filled in', async () => {
        const source = `${sim.appsUrl}/ttd/pub-app/instances/50001234/0b7ae3c2-1f0c-4f4a-9a0e-4e5f0b7c1a11`;
        const response = await publish({
            specversion: '1.0',
            source,
            subject: '/party/50001234',
            type: 'app.instance.created',
            alternativesubject: '/person/01017012345',
            data: { secret: 'not stored' },
            dataschema: 'https://example.com/schema.json',
            contenttype: 'application/json',
        });
        expect(response.status).toBe(201);
        expect(response.headers.get('location')).toBe('/party/50001234');
        const id = (await response.json()) as string;
        const stored = (await sim.control.listEvents()).find((e) => e.id === id);
        expect(stored).not.toHaveProperty('data');
        expect(stored).not.toHaveProperty('dataschema');
        expect(stored).not.toHaveProperty('contenttype');
        expect(stored).toMatchObject({
            alternativesubject: '/person/01017012345',
            source,
            resource: 'urn:altinn:resource:app_ttd_pub-app',
            resourceinstance: '50001234/0b7ae3c2-1f0c-4f4a-9a0e-4e5f0b7c1a11',
            time: expect.any(String) as string,
        });
    });

    it('sets alternativesubject as app-lib does: /org/ before /person/', async () => {
        const both = await sim.control.createInstance({
            app: 'alt-app',
            organisationNumber: '910000002',
            personNumber: '01017012345',
            process: 'completed',
            publish: true,
        });
        const person = await sim.control.createInstance({
            app: 'alt-app',
            personNumber: '01017012345',
            process: 'completed',
            publish: true,
        });
        const events = await sim.control.listEvents();
        expect(events.find((e) => e.id === both.events[0].id)?.alternativesubject).toBe('/org/910000002');
        expect(events.find((e) => e.id === person.events[0].id)?.alternativesubject).toBe('/person/01017012345');
    });

    it('answers 400 ProblemDetails when source, subject, type or specversion is missing; 401 for another org', async () => {
        const response = await publish({ specversion: '1.0', type: 'x', source: `${sim.appsUrl}/ttd/a/instances/1/x` });
        expect(response.status).toBe(400);
        expect(await response.json()).toMatchObject({
            status: 400,
            detail: 'Missing parameter values: source, subject and type cannot be null',
        });
        const foreign = await publish({
            specversion: '1.0',
            type: 'x',
            subject: '/party/1',
            source: `${sim.appsUrl}/skd/a/instances/1/x`,
        });
        expect(foreign.status).toBe(401);
    });
});
