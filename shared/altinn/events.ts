/**
 * Altinn Events API v1 as this system uses it (altinn-api.md §1): subscriptions (create, read,
 * list, delete) and the app-owner query API with its `next` link. Every call goes through the
 * one Altinn HTTP client, so tokens, retries and the origin rule apply as everywhere else.
 */
import type { AppConfig } from '../config';
import type { StepLogger } from '../log';
import { AltinnHttpError } from './errors';
import type { AltinnHttp } from './http';
import { redactUrl } from './origins';

/** A subscription as Altinn returns it (§1.5). Fields Altinn adds later are kept. */
export interface Subscription {
    id: number;
    endPoint: string;
    sourceFilter?: string;
    resourceFilter?: string;
    subjectFilter?: string;
    typeFilter?: string;
    consumer?: string;
    createdBy?: string;
    created?: string;
    validated?: boolean;
    includeSubunits?: boolean;
    [field: string]: unknown;
}

export interface CreatedSubscription {
    subscription: Subscription;
    /** The response body exactly as Altinn sent it. */
    text: string;
}

export interface AppEventsQuery {
    /** Id of the last event already seen; the query returns the events registered after it. */
    after?: string;
    /** Used only when there is no `after`: events whose time is at or after this. */
    from?: Date;
    /** Event types (the API matches each with ILIKE); empty: every type. */
    types?: readonly string[];
    /** Page size; the API's default is 50. */
    size?: number;
}

export interface AppEventsPage {
    /** The events of this page, in the order the API returned them (registration order). */
    events: unknown[];
    /**
     * The API's `next` link (present whenever the page is not empty), when it continues this query on a
     * configured Altinn origin; in the form this system would write it (see followableNext).
     */
    next?: string;
    /** A `next` link that is not followed, redacted, and why: the caller continues from the last event id instead. */
    nextIgnored?: { link: string; reason: string };
}

export interface EventsApi {
    readonly subscriptionsUrl: string;
    /** POST /subscriptions. Altinn answers 201 with the subscription (an identical one is returned, not duplicated). */
    createSubscription(body: Record<string, unknown>, logger?: StepLogger): Promise<CreatedSubscription>;
    /** GET /subscriptions/{id}; undefined on 404. */
    getSubscription(id: number, logger?: StepLogger): Promise<Subscription | undefined>;
    /** GET /subscriptions: every subscription of this consumer, validated or not. */
    listSubscriptions(logger?: StepLogger): Promise<Subscription[]>;
    /** DELETE /subscriptions/{id}; 'notFound' when Altinn has no such subscription (already gone). */
    deleteSubscription(id: number, logger?: StepLogger): Promise<'deleted' | 'notFound'>;
    /** The first query URL for an app: GET /app/{org}/{app}?after|from&type…&size. */
    appEventsUrl(org: string, app: string, query: AppEventsQuery): string;
    /** One page of the query API: `url` is appEventsUrl(...) or a previous page's `next`. */
    queryAppEvents(url: string, logger?: StepLogger): Promise<AppEventsPage>;
}

/** The Altinn answer was not what the API promises (e.g. no id on a created subscription). */
export class UnexpectedResponseError extends Error {
    constructor(message: string) {
        super(message);
        this.name = 'UnexpectedResponseError';
    }
}

export function createEventsApi(
    http: AltinnHttp,
    config: Pick<AppConfig, 'platformBaseUrl' | 'appsBaseUrl'>,
): EventsApi {
    const base = `${config.platformBaseUrl}/events/api/v1`;
    const subscriptionsUrl = `${base}/subscriptions`;
    const altinnOrigins = [config.platformBaseUrl, config.appsBaseUrl].map((url) => new URL(url).origin);

    return {
        subscriptionsUrl,

        async createSubscription(body, logger) {
            const { status, text } = await http.requestText({
                method: 'POST',
                url: subscriptionsUrl,
                // Altinn returns the existing subscription for an identical request, so a resend creates nothing new.
                retryable: true,
                headers: { 'content-type': 'application/json', accept: 'application/json' },
                body: JSON.stringify(body),
                logger,
            });
            const subscription = parseSubscription(text, `POST ${subscriptionsUrl} answered ${status}`);
            return { subscription, text };
        },

        async getSubscription(id, logger) {
            const { status, json } = await http.requestJson<unknown>({
                url: `${subscriptionsUrl}/${id}`,
                allowStatus: [404],
                logger,
            });
            if (status === 404) return undefined;
            return asSubscription(json, `GET ${subscriptionsUrl}/${id}`);
        },

        async listSubscriptions(logger) {
            const list = await http.getJson<{ subscriptions?: unknown }>(subscriptionsUrl, { logger });
            if (!list || !Array.isArray(list.subscriptions)) {
                throw new UnexpectedResponseError(`GET ${subscriptionsUrl} did not return {count, subscriptions}`);
            }
            return list.subscriptions.map((item) => asSubscription(item, `GET ${subscriptionsUrl}`));
        },

        async deleteSubscription(id, logger) {
            const { status } = await http.requestText({
                method: 'DELETE',
                url: `${subscriptionsUrl}/${id}`,
                allowStatus: [404],
                logger,
            });
            return status === 404 ? 'notFound' : 'deleted';
        },

        appEventsUrl(org, app, query) {
            const url = new URL(`${base}/app/${encodeURIComponent(org)}/${encodeURIComponent(app)}`);
            if (query.after !== undefined) url.searchParams.set('after', query.after);
            else if (query.from !== undefined) url.searchParams.set('from', query.from.toISOString());
            for (const type of query.types ?? []) url.searchParams.append('type', type);
            if (query.size !== undefined) url.searchParams.set('size', String(query.size));
            return url.toString();
        },

        async queryAppEvents(url, logger) {
            const { headers, json } = await http.requestJson<unknown>({ url, logger });
            if (json === undefined) return { events: [] };
            if (!Array.isArray(json)) {
                throw new UnexpectedResponseError(`GET ${redactQuery(url)} did not return a JSON array of events`);
            }
            const nextHeader = headers.next;
            const next = Array.isArray(nextHeader) ? nextHeader[0] : nextHeader;
            if (next === undefined || next === '') return { events: json as unknown[] };
            const followable = followableNext(next, url, altinnOrigins);
            if (typeof followable === 'string') {
                // Checked once more by the HTTP layer's origin rule before the token goes there.
                return { events: json as unknown[], next: http.assertAllowedOrigin(followable).toString() };
            }
            return { events: json as unknown[], nextIgnored: { link: redactUrl(next), reason: followable.reason } };
        },
    };
}

/**
 * Altinn Events builds `next` from its own GeneralSettings.BaseUri, the request path and the query
 * (AppController.SetNextLink in altinn-events), so it can differ in form from AltinnPlatformBaseUrl:
 * another case, a doubled slash after a BaseUri with a trailing slash, or another host (a gateway).
 * It is followed when its origin is a configured Altinn origin and it continues the same query path
 * (the form normalised); otherwise the reason is returned and the caller rebuilds it from the last id.
 */
export function followableNext(
    next: string,
    queried: string,
    altinnOrigins: readonly string[],
): string | { reason: string } {
    let parsed: URL;
    try {
        parsed = new URL(next);
    } catch {
        return { reason: 'it is not an absolute URL' };
    }
    if (parsed.username || parsed.password || !altinnOrigins.includes(parsed.origin)) {
        return { reason: `its origin ${parsed.origin} is not one of the configured ${altinnOrigins.join(', ')}` };
    }
    const path = parsed.pathname.replace(/\/{2,}/g, '/');
    const queriedPath = new URL(queried).pathname;
    if (path.toLowerCase() !== queriedPath.toLowerCase() || !parsed.searchParams.get('after')) {
        return { reason: `it does not continue ${queriedPath} with an after parameter` };
    }
    return `${parsed.origin}${queriedPath}${parsed.search}`;
}

function redactQuery(url: string): string {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
}

function parseSubscription(text: string, where: string): Subscription {
    let json: unknown;
    try {
        json = JSON.parse(text);
    } catch {
        throw new UnexpectedResponseError(`${where} with a body that is not JSON`);
    }
    return asSubscription(json, where);
}

function asSubscription(json: unknown, where: string): Subscription {
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
        throw new UnexpectedResponseError(`${where}: the subscription is not a JSON object`);
    }
    const id = (json as { id?: unknown }).id;
    if (typeof id !== 'number' || !Number.isInteger(id)) {
        throw new UnexpectedResponseError(`${where}: the subscription has no integer id`);
    }
    return json as Subscription;
}

/** Whether the Altinn answer refuses this request for good (4xx other than 401, 408, 429), as opposed to "not now". */
export function isRefusal(error: unknown): error is AltinnHttpError {
    return (
        error instanceof AltinnHttpError &&
        !error.transient &&
        error.status !== undefined &&
        error.status >= 400 &&
        error.status < 500 &&
        error.status !== 401
    );
}
