/**
 * The chaos scenarios. Each runs on a fresh stack (stack.ts): instances are submitted at an even
 * pace over a window while one kind of failure happens in the middle of it, then the run waits
 * (bounded) until every instance is confirmed or in a poison queue, and measure.ts counts what
 * happened. `npm run chaos` (run.ts) and test/integration/chaos run the same code.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { queues } from '../../shared/names';
import { listPoison } from '../../shared/poison';
import type { CreatedInstance, FaultInput, SimulatorOptions } from '../simulator';
import type { ChaosStack } from './stack';
import { completedType } from './stack';
import { checkEveryInstance, postToEveryHost, startSecondHost } from './twoHosts';

export interface ChaosOptions {
    /** Instances submitted per scenario. */
    instances: number;
    /** How long Azurite, or the webhook, is down. */
    outageSeconds: number;
    /** Share of the Altinn calls that fail in the altinn-faults scenario. */
    faultRate: number;
    /** Wait out the Functions host's 10-minute hold on the messages it held, instead of moving storage's clock on. */
    realHold: boolean;
    /** Upper bound of the wait for every instance to be confirmed or in poison, after the last submission. */
    settleSeconds?: number;
}

/** An instance the run created, with what a complete download of it is. */
export interface Created {
    /** "{partyId}/{instanceGuid}" */
    id: string;
    instanceGuid: string;
    elements: { id: string; size: number }[];
    /** Set for an instance that is meant to end in poison. */
    bad?: string;
}

export interface Run {
    readonly stack: ChaosStack;
    readonly options: ChaosOptions;
    readonly app: string;
    readonly created: Created[];
    /** Facts for the report ("host killed 6.1 s into the run with 9 invocations in flight"). */
    note(text: string): void;
    /** Seconds since the first submission. */
    elapsed(): string;
}

export interface Scenario {
    name: string;
    title: string;
    /** App settings for the host, over the stack's defaults. */
    settings?(options: ChaosOptions): Record<string, string>;
    simulator?(options: ChaosOptions): SimulatorOptions;
    /** Instances that should end in a poison queue. */
    expectedPoison(options: ChaosOptions): number;
    /** Before the first submission (faults that last the whole run). */
    before?(run: Run): Promise<void>;
    /** The failure, started a little into the submission window; resolves when the system may recover. */
    disrupt?(run: Run): Promise<void>;
    /** After the settle wait, before the measurement (what an operator would look at). */
    after?(run: Run): Promise<void>;
    /** Creates submission `index`; undefined: the default (a completed instance, its event published). */
    create?(run: Run, index: number): Promise<Created> | undefined;
    /** After the measurement: what is wrong beyond lost and confirmed without data (each fails the scenario). */
    verify?(run: Run): Promise<string[]>;
}

/** Seconds of submissions before and after the failure. */
export function leadSeconds(options: ChaosOptions): number {
    return Math.max(2, options.outageSeconds / 4);
}

/** The submission window: a lead, the outage, and as long again after it. */
export function windowSeconds(options: ChaosOptions): number {
    return 2 * leadSeconds(options) + options.outageSeconds;
}

export function toCreated(instance: CreatedInstance, bad?: string): Created {
    return {
        id: instance.id,
        instanceGuid: instance.instanceGuid,
        elements: instance.dataElements.map((element) => ({ id: element.id, size: element.size })),
        bad,
    };
}

/** A submitted form: XML form data and a PDF attachment, generated content (streamed by the simulator). */
export async function createSubmission(run: Run, index: number, publish = true): Promise<CreatedInstance> {
    return run.stack.sim.control.createInstance({
        app: run.app,
        process: 'completed',
        publish,
        partyName: 'Åse Ødegård',
        dataElements: [
            { dataType: 'model', contentType: 'application/xml', filename: 'skjema.xml', size: 2048 },
            {
                dataType: 'vedlegg',
                contentType: 'application/pdf',
                filename: `vedlegg ${index + 1} – søknad.pdf`,
                size: 16 * 1024,
            },
        ],
    });
}

/**
 * Faults on a share of the calls to one endpoint, split evenly between the kinds. Faults are tried
 * in order and a fault whose dice say no passes the request on to the next, so each one's
 * probability is its share of what the ones before it let through.
 */
async function addFaultMix(run: Run, endpoint: string, rate: number, kinds: Omit<FaultInput, 'endpoint'>[]) {
    const share = rate / kinds.length;
    let passed = 1;
    for (const kind of kinds) {
        await run.stack.sim.control.addFault({ endpoint, probability: share / passed, ...kind });
        passed -= share;
    }
}

const httpTimeoutSeconds = 1;

const altinnFaults: Scenario = {
    name: 'altinn-faults',
    title: 'Altinn calls failing',
    settings: () => ({ HttpTimeoutSeconds: String(httpTimeoutSeconds), HttpRetryBudgetSeconds: '10' }),
    // Short-lived tokens, so that the token endpoints are called (and fail) throughout the run.
    simulator: () => ({ maskinportenTokenLifetimeSeconds: 70, altinnTokenLifetimeSeconds: 70 }),
    expectedPoison: () => 0,
    async before(run) {
        const kinds: Omit<FaultInput, 'endpoint'>[] = [
            { status: 500, body: { title: 'chaos: internal error' } },
            { status: 503, body: { title: 'chaos: unavailable' } },
            { status: 429, retryAfterSeconds: 1 },
            { reset: true },
            { latencyMs: httpTimeoutSeconds * 1000 + 1500 },
            { truncateAfterBytes: 100 },
        ];
        const endpoints = [
            'apps.getInstance',
            'apps.getData',
            'storage.getData',
            'apps.complete',
            'maskinporten.token',
            'authentication.exchange',
        ];
        for (const endpoint of endpoints) await addFaultMix(run, endpoint, run.options.faultRate, kinds);
        run.note(
            `${Math.round(run.options.faultRate * 100)} % of calls to ${endpoints.join(', ')} fail: 500, 503, 429 (Retry-After 1 s), ` +
                `connection reset, no answer within HttpTimeoutSeconds=${httpTimeoutSeconds}, body cut after 100 bytes`,
        );
    },
};

const hostKill: Scenario = {
    name: 'host-kill',
    title: 'host killed and restarted',
    expectedPoison: () => 0,
    async before(run) {
        // Slow downloads, so that the kill finds work half done rather than an idle host.
        for (const endpoint of ['apps.getData', 'storage.getData']) {
            await run.stack.sim.control.addFault({ endpoint, latencyMs: 500 });
        }
        run.note('every data download takes 500 ms, so that invocations are in flight when the host dies');
    },
    async disrupt(run) {
        const { host, azurite } = run.stack;
        const waitUntil = Date.now() + 10_000;
        while (!host.inFlight().EventsProcessor && Date.now() < waitUntil) await sleep(50);
        const inFlight = host.inFlight();
        const total = Object.values(inFlight).reduce((sum, n) => sum + n, 0);
        const at = run.elapsed();
        await host.kill();
        const downSeconds = Math.min(5, leadSeconds(run.options));
        await sleep(downSeconds * 1000);
        if (!run.options.realHold) await azurite.skipHostHold();
        await host.start();
        const detail = Object.entries(inFlight)
            .map(([name, n]) => `${name} ${n}`)
            .join(', ');
        run.note(
            `host SIGKILLed ${at} s into the run with ${total} invocation(s) in flight${detail ? ` (${detail})` : ''}, restarted ${downSeconds} s later` +
                (run.options.realHold ? '' : "; storage's clock moved 10 min on for the messages it held"),
        );
    },
};

const storageOutage: Scenario = {
    name: 'storage-outage',
    title: 'Azurite stopped and started',
    expectedPoison: () => 0,
    async disrupt(run) {
        const { azurite } = run.stack;
        const at = run.elapsed();
        const started = Date.now();
        await azurite.stop();
        await sleep(Math.max(0, run.options.outageSeconds * 1000 - (Date.now() - started)));
        if (!run.options.realHold) await azurite.skipHostHold();
        await azurite.start();
        run.note(
            `Azurite stopped ${at} s into the run for ${((Date.now() - started) / 1000).toFixed(1)} s, started again on the same ports and data` +
                (run.options.realHold ? '' : ' with its clock moved 10 min on for the messages the host held'),
        );
    },
};

const webhookDown: Scenario = {
    name: 'webhook-down',
    title: 'webhook unreachable',
    expectedPoison: () => 0,
    async disrupt(run) {
        const { sim, webhook } = run.stack;
        const at = run.elapsed();
        const fault = await sim.control.addFault({
            endpoint: 'delivery',
            pathContains: new URL(webhook).host,
            eventType: completedType,
            reset: true,
        });
        await sleep(run.options.outageSeconds * 1000);
        const hits = (await sim.control.listFaults()).find((f) => f.id === fault.id)?.hits ?? 0;
        await sim.control.removeFault(fault.id);
        run.note(
            `webhook unreachable from Altinn ${at} s into the run for ${run.options.outageSeconds} s: ${hits} push attempt(s) failed`,
        );
    },
};

/** Which submissions get an element that never downloads, and how it fails. */
function badSubmissions(options: ChaosOptions): Map<number, 404 | 500> {
    const bad = new Map<number, 404 | 500>();
    bad.set(Math.floor(options.instances / 3), 404);
    if (options.instances > 1) bad.set(Math.floor((2 * options.instances) / 3), 500);
    return bad;
}

const elementNeverDownloads: Scenario = {
    name: 'element-never-downloads',
    title: 'a data element never downloads',
    settings: () => ({ AzureFunctionsJobHost__extensions__queues__maxDequeueCount: '2' }),
    expectedPoison: (options) => badSubmissions(options).size,
    create(run, index) {
        const status = badSubmissions(run.options).get(index);
        if (status === undefined) return undefined;
        return (async () => {
            // Faulted before its event is published, so that no attempt can see the element work.
            const instance = await createSubmission(run, index, false);
            const element = instance.dataElements[1];
            for (const endpoint of ['apps.getData', 'storage.getData']) {
                await run.stack.sim.control.addFault({ endpoint, pathContains: element.id, status });
            }
            await run.stack.sim.control.publishEvent({ event: { type: completedType, source: instance.url } });
            run.note(`instance ${instance.id}: element ${element.id} answers ${status} every time`);
            return toCreated(instance, `element answers ${status}`);
        })();
    },
    async after(run) {
        // What `npm run aos -- poison list` shows the operator.
        for (const message of await listPoison(run.stack.storage, [queues.eventsInbound])) {
            run.note(
                `npm run aos -- poison list: ${message.queue}-poison ${message.messageId} event ${message.eventId ?? '?'}: ${message.lastError ?? '(no error recorded)'}`,
            );
        }
    },
};

const twoHosts: Scenario = {
    name: 'two-hosts',
    title: 'two hosts, every event posted to both at the same moment',
    expectedPoison: () => 0,
    before: startSecondHost,
    create(run, index) {
        return (async () => {
            const instance = await createSubmission(run, index, false);
            await postToEveryHost(run, instance.url);
            return toCreated(instance);
        })();
    },
    verify: checkEveryInstance,
};

export const scenarios: readonly Scenario[] = [
    altinnFaults,
    hostKill,
    storageOutage,
    webhookDown,
    elementNeverDownloads,
    twoHosts,
];

export function scenarioNamed(name: string): Scenario {
    const found = scenarios.find((scenario) => scenario.name === name);
    if (!found) {
        throw new Error(`Unknown scenario "${name}"; one of ${scenarios.map((s) => s.name).join(', ')}`);
    }
    return found;
}
