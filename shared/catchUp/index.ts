/** The Events catch-up: see catchUp.ts for the flow and cursor.ts for the cursor blob. */
import { createEventsApi } from '../altinn/events';
import type { Services } from '../services';
import type { CatchUpDeps } from './catchUp';

export * from './catchUp';
export * from './cursor';

/** The dependencies from the process-wide services (config, storage, Altinn HTTP). */
export function catchUpDeps(services: Services): CatchUpDeps {
    return {
        config: services.config,
        storage: services.storage,
        events: createEventsApi(services.altinn.http, services.config),
    };
}
