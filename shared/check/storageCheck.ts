/**
 * Storage, with the app's own connection (its managed identity in Azure): every queue (with its
 * poison queue), container and table of shared/names.ts exists and can be read, which is what
 * infra/app/storage.bicep provisions and infra/app/rbac.bicep grants. Only three probes write, each
 * in a place of the system's own, and each is deleted at once:
 *
 * - a blob in aos-state (check/probe-{uuid}.json), written, read back and compared, deleted;
 * - a message on events-inbound, sent invisible for five minutes and deleted with its pop receipt
 *   (were the delete lost, EventsProcessor would skip its type `aos.check.probe`);
 * - an entity in the ledger table's own partition `check:probe`, which no ledger query reads.
 *
 * A probe goes to no other queue or container: a case system reads instances-received, and the
 * subscription containers are requests the timer acts on.
 */
import { randomUUID } from 'node:crypto';
import { errorMessage } from '../log';
import { containers, poisonQueueOf, queues, tables, type ContainerName, type TableName } from '../names';
import { encodeQueueMessage, type Storage } from '../storage';
import { storageCode, storageStatus } from '../subscriptions/blobs';
import { failed, ok, timed, warning, type CheckResult, type Finding } from './report';

const provisioned =
    'Bicep provisions it (azd provision, infra/app/storage.bicep); locally the host creates it on first use';
const roles: Record<'queue' | 'blob' | 'table', string> = {
    queue: 'Storage Queue Data Contributor',
    blob: 'Storage Blob Data Owner',
    table: 'Storage Table Data Contributor',
};

/** What a storage error means for the operator. */
function storageFailure(kind: 'queue' | 'blob' | 'table', what: string, error: unknown): Finding {
    const status = storageStatus(error);
    if (status === 404) return failed(`${what} does not exist`, `create it: ${provisioned}`);
    if (status === 403) {
        return failed(
            `${what} refused this identity (${storageCode(error) ?? '403'})`,
            `give the function app's identity ${roles[kind]} on the storage account (infra/app/rbac.bicep)`,
        );
    }
    return failed(`${what} could not be read: ${errorMessage(error)}`, 'check that the storage account is reachable');
}

async function queueCheck(storage: Storage, name: string, poison: boolean): Promise<CheckResult> {
    return timed('storage', `Queue ${name}`, async () => {
        const queue = storage.queue(name);
        try {
            const { approximateMessagesCount: count = 0 } = await queue.getProperties();
            await queue.peekMessages({ numberOfMessages: 1 });
            if (poison && count > 0) {
                return warning(
                    `${count} message(s) failed every attempt`,
                    'see npm run aos -- poison list, fix the cause, then replay or drop them',
                );
            }
            return ok('exists and can be read');
        } catch (error) {
            return storageFailure('queue', `queue ${name}`, error);
        }
    });
}

async function containerCheck(storage: Storage, name: ContainerName): Promise<CheckResult> {
    return timed('storage', `Container ${name}`, async () => {
        const container = storage.container(name);
        try {
            await container.getProperties();
            await container.listBlobsFlat().byPage({ maxPageSize: 1 }).next();
            return ok('exists and can be listed');
        } catch (error) {
            return storageFailure('blob', `container ${name}`, error);
        }
    });
}

async function tableCheck(storage: Storage, name: TableName): Promise<CheckResult> {
    return timed('storage', `Table ${name}`, async () => {
        try {
            const filter = `PartitionKey eq '${probePartition}'`;
            await storage.table(name).listEntities({ queryOptions: { filter } }).byPage({ maxPageSize: 1 }).next();
            return ok('exists and can be queried');
        } catch (error) {
            return storageFailure('table', `table ${name}`, error);
        }
    });
}

const probePartition = 'check:probe';
const probeText = () => JSON.stringify({ probe: randomUUID(), at: new Date().toISOString() });

async function blobProbe(storage: Storage): Promise<Finding> {
    const name = `check/probe-${randomUUID()}.json`;
    const blob = storage.container(containers.state).getBlockBlobClient(name);
    const text = probeText();
    try {
        await blob.upload(text, Buffer.byteLength(text));
        const back = (await blob.downloadToBuffer()).toString('utf8');
        await blob.deleteIfExists();
        if (back !== text) return failed(`${containers.state}/${name} read back differently`, 'check the account');
        return ok(`${containers.state}/${name} written, read back and deleted`);
    } catch (error) {
        await blob.deleteIfExists().catch(() => undefined);
        return storageFailure('blob', `writing ${containers.state}/${name}`, error);
    }
}

async function queueProbe(storage: Storage): Promise<Finding> {
    const queue = storage.queue(queues.eventsInbound);
    const event = { specversion: '1.0', id: `aos-check-${randomUUID()}`, type: 'aos.check.probe' };
    const message = encodeQueueMessage(JSON.stringify({ ...event, source: 'https://aos.invalid/check' }));
    try {
        const sent = await queue.sendMessage(message, { visibilityTimeout: 300 });
        await queue.deleteMessage(sent.messageId, sent.popReceipt);
        return ok(`a message sent to ${queues.eventsInbound} (invisible) and deleted`);
    } catch (error) {
        return storageFailure('queue', `sending to ${queues.eventsInbound}`, error);
    }
}

async function tableProbe(storage: Storage): Promise<Finding> {
    const table = storage.table(tables.ledger);
    const rowKey = randomUUID();
    try {
        await table.createEntity({ partitionKey: probePartition, rowKey, text: probeText() });
        await table.getEntity(probePartition, rowKey);
        await table.deleteEntity(probePartition, rowKey);
        return ok(`an entity written to ${tables.ledger} (partition ${probePartition}), read back and deleted`);
    } catch (error) {
        await table.deleteEntity(probePartition, rowKey).catch(() => undefined);
        return storageFailure('table', `writing to table ${tables.ledger}`, error);
    }
}

/**
 * One row for the resources of a kind that are fine, and a row of its own for each that is not, so
 * that a healthy account reads as three lines and a fault is named by itself.
 */
function collapse(kind: string, results: CheckResult[], can: string, note = ''): CheckResult[] {
    const fine = results.filter((result) => result.status === 'ok');
    const rest = results.filter((result) => result.status !== 'ok');
    if (fine.length === 0) return rest;
    const detail =
        fine.length === 1
            ? `${fine[0].name.toLowerCase()} exists and ${can}`
            : `${rest.length === 0 ? 'all' : 'the other'} ${fine.length} exist and ${can}${note}`;
    const durationMs = Math.max(...fine.map((result) => result.durationMs));
    return [{ group: 'storage', name: kind, status: 'ok', detail, durationMs }, ...rest];
}

export async function checkStorage(storage: Storage): Promise<CheckResult[]> {
    const queueNames = Object.values(queues).flatMap((name) => [
        { name, poison: false },
        { name: poisonQueueOf(name), poison: true },
    ]);
    const [queueResults, containerResults, tableResults] = await Promise.all([
        Promise.all(queueNames.map(({ name, poison }) => queueCheck(storage, name, poison))),
        Promise.all(Object.values(containers).map((name) => containerCheck(storage, name))),
        Promise.all(Object.values(tables).map((name) => tableCheck(storage, name))),
    ]);
    const usable = (results: CheckResult[], name: string) =>
        results.some((check) => check.name === name && check.status !== 'failed');
    const probe = (name: string, work: () => Promise<Finding>) => timed('storage', `Write probe (${name})`, work);
    const probes = await Promise.all([
        usable(containerResults, `Container ${containers.state}`) ? probe('blob', () => blobProbe(storage)) : [],
        usable(queueResults, `Queue ${queues.eventsInbound}`) ? probe('queue', () => queueProbe(storage)) : [],
        usable(tableResults, `Table ${tables.ledger}`) ? probe('table', () => tableProbe(storage)) : [],
    ]);
    return [
        ...collapse('Queues', queueResults, 'can be read', ' (every queue with its poison queue)'),
        ...collapse('Containers', containerResults, 'can be listed'),
        ...collapse('Tables', tableResults, 'can be queried'),
        ...probes.flat(),
    ];
}
