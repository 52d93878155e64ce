/** Reconciliation against Altinn Storage: see reconcile.ts. */
import { createStorageApi } from '../altinn/storage';
import type { Services } from '../services';
import type { ReconcileDeps } from './reconcile';

export * from './reconcile';
export * from './requeue';

/** The dependencies from the process-wide services (config, storage, Altinn HTTP). */
export function reconcileDeps(services: Services): ReconcileDeps {
    return {
        config: services.config,
        storage: services.storage,
        altinnStorage: createStorageApi(services.altinn.http, services.config),
    };
}
