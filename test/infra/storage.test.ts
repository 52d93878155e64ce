/**
 * Every queue (with its poison queue) and container the code names in shared/names.ts is
 * provisioned, and the storage account admits only Entra identities. The queues carry base64
 * messages: host.json says so and the code sends so.
 */
import { containers, poisonQueueOf, queues, tables } from '../../shared/names';
import { decodeQueueMessage, encodeQueueMessage } from '../../shared/storage';
import {
    checkQueuesAndContainers,
    checkStorageAccount,
    expectedContainers,
    expectedQueues,
    expectedTables,
    files,
    loadInfra,
    queueMessageEncoding,
    replaceOnce,
} from './support/invariants';

describe('Storage', () => {
    it('names every queue of shared/names.ts with its poison queue, and every container', () => {
        for (const queue of Object.values(queues)) {
            expect(expectedQueues).toEqual(expect.arrayContaining([queue, poisonQueueOf(queue)]));
        }
        expect(expectedContainers).toEqual(Object.values(containers));
        expect(expectedTables).toEqual(Object.values(tables));
    });

    it('provisions exactly those queues and containers, plus the deployment package container', async () => {
        expect(checkQueuesAndContainers(await loadInfra())).toEqual([]);
    });

    it('reports a queue, poison queue or container that is not provisioned', async () => {
        const noPoison = await loadInfra({ [files.storage]: replaceOnce("  'events-feedback-poison'\n", '') });
        expect(checkQueuesAndContainers(noPoison)).toEqual(['queue: events-feedback-poison is not provisioned']);

        const noQueue = await loadInfra({ [files.storage]: replaceOnce("  'broker-inbound'\n", '') });
        expect(checkQueuesAndContainers(noQueue)).toEqual(['queue: broker-inbound is not provisioned']);

        const noContainer = await loadInfra({ [files.storage]: replaceOnce("  'aos-state'\n", '') });
        expect(checkQueuesAndContainers(noContainer)).toEqual(['container: aos-state is not provisioned']);

        const noTable = await loadInfra({ [files.storage]: replaceOnce("  'ledger'\n", '') });
        expect(checkQueuesAndContainers(noTable)).toEqual(['table: ledger is not provisioned']);
    });

    it('reports a queue the code does not use, and containers not created by the loop', async () => {
        const extra = await loadInfra({
            [files.storage]: replaceOnce("  'events-inbound'\n", "  'events-inbound'\n  'events-outbound'\n"),
        });
        expect(checkQueuesAndContainers(extra)).toEqual(['queue: events-outbound is not used by the code']);

        const noDeploymentContainer = await loadInfra({
            [files.storage]: replaceOnce('concat(containerNames, [deploymentContainerName])', 'containerNames'),
        });
        expect(checkQueuesAndContainers(noDeploymentContainer)).toContain(
            'infra/app/storage.bicep: no container resource looping over containerNames and deploymentContainerName',
        );
    });

    it('disables shared keys and public blob access and requires TLS 1.2', async () => {
        expect(checkStorageAccount(await loadInfra())).toEqual([]);
        const sharedKey = await loadInfra({
            [files.storage]: replaceOnce('allowSharedKeyAccess: false', 'allowSharedKeyAccess: true'),
        });
        expect(checkStorageAccount(sharedKey)).toEqual([
            'infra/app/storage.bicep: storage account properties.allowSharedKeyAccess must be false',
        ]);
        const tls = await loadInfra({
            [files.storage]: replaceOnce("minimumTlsVersion: 'TLS1_2'", "minimumTlsVersion: 'TLS1_0'"),
        });
        expect(checkStorageAccount(tls)).toEqual([
            "infra/app/storage.bicep: storage account properties.minimumTlsVersion must be 'TLS1_2'",
        ]);
    });

    it('uses base64 queue messages in host.json, as the code sends them', async () => {
        expect(queueMessageEncoding(await loadInfra())).toBe('base64');
        const none = await loadInfra({
            [files.hostJson]: replaceOnce('"messageEncoding": "base64"', '"messageEncoding": "none"'),
        });
        expect(queueMessageEncoding(none)).not.toBe('base64');

        const text = JSON.stringify({ id: 'e1', type: 'app.instance.process.completed', data: 'æøå' });
        const sent = encodeQueueMessage(text);
        expect(sent).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
        expect(Buffer.from(sent, 'base64').toString('utf8')).toBe(text);
        expect(decodeQueueMessage(sent)).toBe(text);
    });
});
