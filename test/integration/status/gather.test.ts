import { createStorage } from '../../../shared/storage';
import { gatherStatus } from '../../../shared/status';
import { connectionStringFor, freePort, startAzurite, type AzuriteInstance } from '../../support/azurite';

/*
 * The status report when a part of storage cannot be read: that part is named as unavailable
 * (and said at the top), the rest still shows, and nothing throws.
 */

jest.setTimeout(30_000);

let azurite: AzuriteInstance;

beforeAll(async () => {
    azurite = await startAzurite();
});

afterAll(async () => {
    await azurite?.stop();
});

const config = { catchUpApps: [{ org: 'ttd', app: 'apps-test' }], reconcileApps: [], brokerResources: ['ttd-broker'] };

it('reports the ledger as unavailable when its table service does not answer, and shows the rest', async () => {
    const { blobPort, queuePort } = azurite;
    const deadTablePort = await freePort();
    const storage = createStorage({
        AzureWebJobsStorage: connectionStringFor({ blobPort, queuePort, tablePort: deadTablePort }),
    });

    const report = await gatherStatus({ config, storage });

    expect(report.unavailable.map((part) => part.part).sort()).toEqual([
        'the ledger (Broker files never confirmed)',
        'the ledger (Broker resources)',
        'the ledger (apps)',
        'the ledger (gone or refused instances)',
        'the ledger (instances not ended)',
        'the ledger (instances not handed off)',
        'the ledger (runs)',
    ]);
    expect(report.attention).toEqual(
        expect.arrayContaining([expect.stringMatching(/^Could not read the ledger \(apps\): /)]),
    );
    expect(report.poisonQueues.map((queue) => [queue.poisonQueue, queue.messages])).toContainEqual([
        'events-inbound-poison',
        0,
    ]);
    expect(report.subscriptions).toEqual({ active: [], failed: [], pending: [], unknownToFiles: [] });
});

it('shows configured apps and resources with nothing seen yet as zero rows', async () => {
    const report = await gatherStatus({
        config,
        storage: createStorage({ AzureWebJobsStorage: azurite.connectionString }),
    });
    expect(report.unavailable).toEqual([]);
    expect(report.apps).toEqual([
        { kind: 'instance', scope: 'ttd/apps-test', received: 0, stored: 0, confirmed: 0, unconfirmed: 0, poisoned: 0 },
    ]);
    expect(report.brokerResources.map((scope) => scope.scope)).toEqual(['ttd-broker']);
    expect(report.attention).toEqual([]);
});
