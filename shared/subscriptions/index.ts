/** Subscriptions managed through Blob Storage: see service.ts for the flow and validate.ts for the rules. */
import { createEventsApi } from '../altinn/events';
import type { Services } from '../services';
import type { SubscriptionDeps } from './service';

export * from './selfCheck';
export * from './service';
export * from './validate';

/** The dependencies from the process-wide services (config, storage, Altinn HTTP). */
export function subscriptionDeps(services: Services): SubscriptionDeps {
    return {
        config: services.config,
        storage: services.storage,
        events: createEventsApi(services.altinn.http, services.config),
    };
}
