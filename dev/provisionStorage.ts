/**
 * What infra/app/storage.bicep provisions in Azure, for Azurite: every queue of shared/names.ts with
 * its poison queue, every container and every table. The functions create what they use on first
 * use, but the deployment check (`aos check`) expects what Bicep provides from the start.
 */
import { containers, poisonQueueOf, queues, tables } from '../shared/names';
import type { Storage } from '../shared/storage';

export async function provisionStorage(storage: Storage): Promise<void> {
    await Promise.all([
        ...Object.values(queues).flatMap((queue) => [
            storage.queue(queue).createIfNotExists(),
            storage.queue(poisonQueueOf(queue)).createIfNotExists(),
        ]),
        ...Object.values(containers).map((container) => storage.container(container).createIfNotExists()),
        // createTable answers an existing table without an error.
        ...Object.values(tables).map((table) => storage.table(table).createTable()),
    ]);
}
