/**
 * Altinn Storage's instance query, as an application owner uses it to find what it has not
 * confirmed: `GET {platform}/storage/api/v1/instances?org=&appId=&process.isComplete=true&excludeConfirmedBy=`
 * (altinn-storage src/Storage/Controllers/InstancesController.cs GetInstances, parameters in
 * src/Storage/Models/InstanceQueryParameters.cs). It answers QueryResponse
 * (src/Storage/Helpers/QueryResponse.cs): `count`, `self`, `next`, `instances`; `next` is there
 * only when the page is full (PgInstanceRepository: ContinuationToken when count == size) and
 * carries `continuationToken`, already encoded for the next request: it is followed as given.
 * `excludeConfirmedBy` equal to `org` is Storage's `confirmed=false`: complete confirmations by
 * that very org (InstanceQueryParameters.GetConfirmed).
 */
import type { AppConfig } from '../config';
import type { StepLogger } from '../log';
import type { Instance } from './apps';
import { UnexpectedResponseError } from './events';
import type { AltinnHttp } from './http';

export interface InstancesPage {
    instances: Instance[];
    /** The next page, on the platform origin; absent on the last page. */
    next?: string;
}

export interface StorageApi {
    /** The first page of instances of org/app that are complete and not confirmed by the org. */
    unconfirmedInstancesUrl(org: string, app: string, size?: number): string;
    queryInstances(url: string, logger?: StepLogger): Promise<InstancesPage>;
}

/** Storage's own default page size (InstancesController.ApplyQueryDefaults). */
export const defaultInstancesPageSize = 100;

export function createStorageApi(http: AltinnHttp, config: Pick<AppConfig, 'platformBaseUrl'>): StorageApi {
    const base = `${config.platformBaseUrl}/storage/api/v1/instances`;
    const platformOrigin = new URL(config.platformBaseUrl).origin;
    return {
        unconfirmedInstancesUrl(org, app, size = defaultInstancesPageSize) {
            const url = new URL(base);
            url.searchParams.set('org', org);
            url.searchParams.set('appId', `${org}/${app}`);
            url.searchParams.set('process.isComplete', 'true');
            url.searchParams.set('excludeConfirmedBy', org);
            url.searchParams.set('size', String(size));
            return url.toString();
        },

        async queryInstances(url, logger) {
            const { json } = await http.requestJson<unknown>({ url, logger });
            const where = `GET ${new URL(url).pathname}`;
            if (
                typeof json !== 'object' ||
                json === null ||
                !Array.isArray((json as { instances?: unknown }).instances)
            ) {
                throw new UnexpectedResponseError(`${where} did not answer a QueryResponse with an instances array`);
            }
            const { instances, next } = json as { instances: Instance[]; next?: unknown };
            if (typeof next !== 'string' || next === '') return { instances };
            // The token goes wherever `next` points: only ever to the platform origin the query went to.
            const parsed = http.assertAllowedOrigin(next);
            if (parsed.origin !== platformOrigin) {
                throw new UnexpectedResponseError(
                    `The next link of ${where} points to ${parsed.origin}, not to the platform origin ${platformOrigin}`,
                );
            }
            return { instances, next: parsed.toString() };
        },
    };
}
