/**
 * Altinn Storage's instance query, as an application owner uses it to find what it has not
 * confirmed: `GET {platform}/storage/api/v1/instances?org=&appId=&process.isComplete=true&excludeConfirmedBy=`
 * (altinn-storage src/Storage/Controllers/InstancesController.cs GetInstances, parameters in
 * src/Storage/Models/InstanceQueryParameters.cs), and, with feedback, what waits in the feedback
 * task: `process.currentTask={task}` (the `taskid` column; such an instance's process has not ended,
 * so `process.isComplete=true` never finds it).
 *
 * Every query asks `includeDataElements=false` (reconciliation reads only ids and dates; Storage then
 * skips the join on data elements) and `order=asc:lastChanged`, oldest first. Storage orders by
 * lastChanged and then the row id ascending, and continues after the last row; descending (its
 * default) the continuation `lastchanged < t OR (= t AND id < k)` disagrees with that order inside a
 * tie, so rows sharing the time of a page's last row are skipped for good, while ascending
 * (`> t OR (= t AND id > k)`) returns every row once (readinstancefromquery.sql,
 * PgInstanceRepository.GetInstancesInternal). Oldest first also means that a walk cut short leaves
 * out the newest, which events bring, not the oldest backlog. It answers QueryResponse
 * (src/Storage/Helpers/QueryResponse.cs): `count`, `self`, `next`, `instances`; `next` is there
 * only when the page is full (PgInstanceRepository: ContinuationToken when count == size) and
 * carries `continuationToken`, already encoded for the next request: it is followed as given.
 * `excludeConfirmedBy` equal to `org` is Storage's `confirmed=false`: complete confirmations by
 * that very org (InstanceQueryParameters.GetConfirmed).
 *
 * Whether an app exists at all is Storage's application metadata (src/Storage/Controllers/
 * ApplicationsController.cs GetOne, [AllowAnonymous]): 404 "Could not find an application with appId=…".
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
    /** The first page of instances of org/app whose process waits in `task`, not confirmed by the org. */
    instancesInTaskUrl(org: string, app: string, task: string, size?: number): string;
    queryInstances(url: string, logger?: StepLogger): Promise<InstancesPage>;
    /**
     * Whether Storage knows the app: `GET {platform}/storage/api/v1/applications/{org}/{app}`, anonymous,
     * 404 for an app never deployed (ApplicationsController.GetOne). The instance query cannot tell: for an
     * unknown appId it answers an empty list, as for an app with nothing waiting.
     */
    applicationExists(org: string, app: string, logger?: StepLogger): Promise<boolean>;
}

/** Storage's own default page size (InstancesController.ApplyQueryDefaults). */
export const defaultInstancesPageSize = 100;

export function createStorageApi(http: AltinnHttp, config: Pick<AppConfig, 'platformBaseUrl'>): StorageApi {
    const base = `${config.platformBaseUrl}/storage/api/v1/instances`;
    const platformOrigin = new URL(config.platformBaseUrl).origin;
    const query = (org: string, app: string, filter: Record<string, string>, size: number): string => {
        const url = new URL(base);
        url.searchParams.set('org', org);
        url.searchParams.set('appId', `${org}/${app}`);
        for (const [name, value] of Object.entries(filter)) url.searchParams.set(name, value);
        url.searchParams.set('excludeConfirmedBy', org);
        url.searchParams.set('includeDataElements', 'false');
        url.searchParams.set('order', 'asc:lastChanged');
        url.searchParams.set('size', String(size));
        return url.toString();
    };
    return {
        unconfirmedInstancesUrl(org, app, size = defaultInstancesPageSize) {
            return query(org, app, { 'process.isComplete': 'true' }, size);
        },

        instancesInTaskUrl(org, app, task, size = defaultInstancesPageSize) {
            return query(org, app, { 'process.currentTask': task }, size);
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

        async applicationExists(org, app, logger) {
            const url = `${config.platformBaseUrl}/storage/api/v1/applications/${encodeURIComponent(org)}/${encodeURIComponent(app)}`;
            const { status } = await http.requestText({ url, auth: 'none', allowStatus: [404], logger });
            return status !== 404;
        },
    };
}
