/**
 * The two-host scenario's parts (scenarios.ts `two-hosts`): Azure runs several instances of the app
 * on one storage account, and an event may reach two of them at the same moment (Altinn pushing to
 * a webhook that Flex load-balances, the catch-up of each host reading the same page). A second
 * local host runs beside the stack's, on the same Azurite and settings; every event is posted to
 * both webhooks at once. Afterwards every instance must be stored, manifest.json and instance.json
 * of the version Altinn now has and consistent with the blobs (sizes and SHA-256), and nothing
 * confirmed without its data; the complete calls, hand-off messages and GETs per instance are
 * counted and printed, since a true race may still repeat the first two (docs/guarantees.md).
 */
import { RestError } from '@azure/storage-blob';
import type { Instance } from '../../shared/altinn/apps';
import { instanceBlobName } from '../../shared/instances/layout';
import { manifestBlobName, type Manifest } from '../../shared/instances/manifest';
import { instanceVersion } from '../../shared/instances/version';
import { queues } from '../../shared/names';
import { decodeQueueMessage } from '../../shared/storage';
import type { Created, Run } from './scenarios';
import { completedType } from './stack';

export async function startSecondHost(run: Run): Promise<void> {
    const host = await run.stack.addHost();
    run.note(
        `a second host on port ${host.port}: the same Azurite and settings; queue messages go to whichever host takes them first, and both run the catch-up`,
    );
}

/** Publishes the instance's completed event in Altinn (for the catch-up to find) and posts it to every host's webhook at once, as Altinn would. */
export async function postToEveryHost(run: Run, source: string): Promise<void> {
    const { stack } = run;
    const event = await stack.sim.control.publishEvent({ event: { type: completedType, source }, deliver: false });
    const body = JSON.stringify(event);
    const webhooks = [stack.webhook, ...stack.moreHosts.map((host) => stack.webhookOf(host))];
    await Promise.all(webhooks.map((url) => post(run, url, body)));
}

/** One push, retried (as Altinn retries) while the webhook does not answer 2xx. */
async function post(run: Run, url: string, body: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
        const answer = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json; charset=utf-8' },
            body,
        }).catch((error: unknown) => ({ ok: false, status: String(error) }));
        if (answer.ok) return;
        if (attempt >= 5) {
            run.note(`the webhook ${new URL(url).host} refused an event 5 times (${answer.status})`);
            return;
        }
        await new Promise((resolve) => setTimeout(resolve, 1000));
    }
}

/** "1 × 48, 2 × 2": how many instances had each count. */
export function histogram(counts: number[]): string {
    const tally = new Map<number, number>();
    for (const count of counts) tally.set(count, (tally.get(count) ?? 0) + 1);
    return [...tally.entries()]
        .sort(([a], [b]) => a - b)
        .map(([count, instances]) => `${count} × ${instances}`)
        .join(', ');
}

/** The instances-received messages per instance id, with their versions (read and left hidden for ten minutes). */
async function handOffs(run: Run): Promise<Map<string, string[]>> {
    const queue = run.stack.storage.queue(queues.instancesReceived);
    const byInstance = new Map<string, string[]>();
    if (!(await queue.exists())) return byInstance;
    for (;;) {
        const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 600 });
        if (receivedMessageItems.length === 0) return byInstance;
        for (const item of receivedMessageItems) {
            const message = JSON.parse(decodeQueueMessage(item.messageText)) as {
                instanceId?: string;
                version?: string;
            };
            if (!message.instanceId) continue;
            byInstance.set(message.instanceId, [...(byInstance.get(message.instanceId) ?? []), message.version ?? '']);
        }
    }
}

async function readJson<T>(
    run: Run,
    name: string,
): Promise<{ value: T; metadata: Record<string, string> } | undefined> {
    try {
        const response = await run.stack.inbound().getBlobClient(name).downloadToBuffer();
        const properties = await run.stack.inbound().getBlobClient(name).getProperties();
        return { value: JSON.parse(response.toString('utf8')) as T, metadata: properties.metadata ?? {} };
    } catch (error) {
        if (error instanceof RestError && error.statusCode === 404) return undefined;
        throw error;
    }
}

/** What is wrong with how one instance is stored ('' when it is the version Altinn has, consistent with its blobs). */
async function storedProblems(run: Run, created: Created, handedOff: string[]): Promise<string[]> {
    const { sim } = run.stack;
    const ref = { org: 'ttd', app: run.app, instanceGuid: created.instanceGuid };
    const problems: string[] = [];
    const altinn = (await sim.control.getInstance(created.id)) as unknown as Instance;
    const version = instanceVersion(altinn);
    const stored = await readJson<Instance>(run, instanceBlobName(ref));
    const manifest = await readJson<Manifest>(run, manifestBlobName(ref));
    if (!stored || !manifest)
        return [`${created.id}: ${stored ? '' : 'instance.json '}${manifest ? '' : 'manifest.json '}missing`];
    if (instanceVersion(stored.value) !== version) problems.push('instance.json is not the version Altinn has');
    if (stored.metadata.version !== version) problems.push(`instance.json's metadata version is not ${version}`);
    if (manifest.value.version !== version) problems.push('manifest.json is not the version Altinn has');
    const elements = altinn.data ?? [];
    if (manifest.value.elements.length !== elements.length) problems.push('manifest.json lists other elements');
    for (const element of elements) {
        const entry = manifest.value.elements.find((candidate) => candidate.id === element.id);
        const digest = await sim.control.contentDigest(element.id);
        const blob = await run.stack
            .inbound()
            .getBlobClient(entry?.blob ?? '')
            .getProperties()
            .catch(() => undefined);
        if (!entry || !blob) {
            problems.push(`element ${element.id} not in manifest.json or not stored`);
        } else if (
            entry.size !== digest.size ||
            blob.contentLength !== digest.size ||
            entry.sha256 !== digest.sha256 ||
            blob.metadata?.sha256 !== digest.sha256
        ) {
            problems.push(`element ${element.id}: manifest, blob and Altinn disagree on size or SHA-256`);
        }
    }
    if (handedOff.length === 0) problems.push('never handed off');
    if (handedOff.some((handed) => handed !== version)) problems.push('handed off with another version');
    return problems.map((problem) => `${created.id}: ${problem}`);
}

/**
 * Checks every instance and notes the figures: complete calls, hand-off messages and GETs per
 * instance. Returns the problems (none when every instance is stored as Altinn has it).
 */
export async function checkEveryInstance(run: Run): Promise<string[]> {
    const { completes, instanceReads } = run.stack.sim.counters();
    const handed = await handOffs(run);
    const problems: string[] = [];
    for (const created of run.created)
        problems.push(...(await storedProblems(run, created, handed.get(created.id) ?? [])));
    const per = (counts: Record<string, number> | Map<string, string[]>) =>
        histogram(
            run.created.map((created) =>
                counts instanceof Map ? (counts.get(created.id)?.length ?? 0) : (counts[created.id] ?? 0),
            ),
        );
    run.note(
        `per instance (count × instances): complete calls ${per(completes)}; hand-off messages ${per(handed)}; GETs of the instance ${per(instanceReads)}`,
    );
    return problems;
}
