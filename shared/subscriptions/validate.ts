/**
 * Checks a subscription request the way Altinn Events does (altinn-api.md §1.1), before anything
 * is sent, so that a request Altinn would refuse (or one that would silently never match an event)
 * is refused here with a readable reason, and Altinn receives no call for it.
 *
 * Field names are matched case-insensitively, as Altinn binds them (`endpoint` is `endPoint`), and
 * sent with Altinn's spelling. Fields Altinn does not know (e.g. the reference AOS's `description`,
 * or `id`/`consumer`/`created` in a copy of an active subscription) are passed on unchanged: Altinn
 * ignores unknown fields, and a field Altinn adds later works without a change here. A `null`
 * value counts as absent and is left out. An app subscription by sourceFilter is sent with the
 * resourceFilter Altinn would derive from it (urn:altinn:resource:app_{org}_{app}).
 */
import { isLoopbackHost, type AppConfig } from '../config';

export class SubscriptionRequestError extends Error {
    constructor(message: string) {
        super(message);
        this.name = 'SubscriptionRequestError';
    }
}

export type SubscriptionKind = 'app' | 'generic';

export interface ValidSubscriptionRequest {
    /** What is POSTed to Altinn. */
    body: Record<string, unknown>;
    /** App events (sourceFilter or an app_ resourceFilter), or a generic resource such as Broker. */
    kind: SubscriptionKind;
}

const knownFields = [
    'endPoint',
    'sourceFilter',
    'subjectFilter',
    'resourceFilter',
    'alternativeSubjectFilter',
    'typeFilter',
    'includeSubunits',
] as const;
type KnownField = (typeof knownFields)[number];

const appResourcePrefix = 'urn:altinn:resource:app_';
const urn = /^urn:[a-z0-9][a-z0-9-]{0,31}:\S+$/i;
const alternativeSubject = /^\/(org|organisation|person)\/\d+$/;

/** Parses the text of a request file and validates it. */
export function parseSubscriptionRequest(
    text: string,
    config: Pick<AppConfig, 'appsBaseUrl'>,
): ValidSubscriptionRequest {
    let value: unknown;
    try {
        value = JSON.parse(stripBom(text));
    } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new SubscriptionRequestError(`The file is not valid JSON (${reason}).`);
    }
    return validateSubscriptionRequest(value, config);
}

export function validateSubscriptionRequest(
    value: unknown,
    config: Pick<AppConfig, 'appsBaseUrl'>,
): ValidSubscriptionRequest {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new SubscriptionRequestError('A subscription request must be a JSON object.');
    }
    const body = canonicalFields(value as Record<string, unknown>);
    const endPoint = body.endPoint;

    if (endPoint === undefined) {
        throw new SubscriptionRequestError(
            'endPoint is required: the URL Altinn pushes events to, e.g. https://<function app>.azurewebsites.net/api/eventsreceiver?code=<function key>.',
        );
    }
    checkEndPoint(endPoint);
    for (const name of ['sourceFilter', 'subjectFilter', 'resourceFilter', 'alternativeSubjectFilter', 'typeFilter']) {
        checkNonEmptyString(name, body[name]);
    }
    // Each of these is now a non-empty string or undefined.
    const sourceFilter = body.sourceFilter as string | undefined;
    const resourceFilter = body.resourceFilter as string | undefined;
    const typeFilter = body.typeFilter as string | undefined;
    const alternativeSubjectFilter = body.alternativeSubjectFilter as string | undefined;
    if (body.includeSubunits !== undefined && typeof body.includeSubunits !== 'boolean') {
        throw new SubscriptionRequestError('includeSubunits must be true or false.');
    }
    if (typeFilter !== undefined && /[\s,;*]/.test(typeFilter)) {
        throw new SubscriptionRequestError(
            `typeFilter "${typeFilter}" must be exactly one event type, e.g. app.instance.process.completed: Altinn matches it exactly (no lists, no wildcards), so this would match nothing. Use one subscription per type.`,
        );
    }
    if (resourceFilter !== undefined && !urn.test(resourceFilter)) {
        throw new SubscriptionRequestError(`resourceFilter "${resourceFilter}" must be a valid URN.`);
    }

    // Altinn's IsAppSubscription compares the prefix case-insensitively.
    const isApp = sourceFilter !== undefined || resourceFilter?.toLowerCase().startsWith(appResourcePrefix) === true;
    if (!isApp) {
        if (resourceFilter === undefined) {
            throw new SubscriptionRequestError(
                `Either sourceFilter (app events: ${config.appsBaseUrl}/{org}/{app}) or resourceFilter (e.g. urn:altinn:resource:<Broker resource id>) is required.`,
            );
        }
        if (alternativeSubjectFilter !== undefined) {
            throw new SubscriptionRequestError(
                `alternativeSubjectFilter is not supported for subscriptions on ${resourceFilter}; use subjectFilter.`,
            );
        }
        // GenericSubscriptionService.ValidateSubscription (altinn-events): "IncludeSubunits requires a subject filter."
        if (body.includeSubunits === true && body.subjectFilter === undefined) {
            throw new SubscriptionRequestError('includeSubunits needs a subjectFilter.');
        }
        return { body, kind: 'generic' };
    }

    if (sourceFilter !== undefined) {
        const app = checkSourceFilter(sourceFilter, config.appsBaseUrl);
        const derived = `${appResourcePrefix}${app.org}_${app.app}`;
        if (resourceFilter !== undefined && resourceFilter !== derived) {
            throw new SubscriptionRequestError(
                `resourceFilter "${resourceFilter}" does not match sourceFilter ${sourceFilter} (it would be ${derived}); leave resourceFilter out for app events.`,
            );
        }
        // Sent along, so that Altinn classifies the subscription as an app one by its resourceFilter prefix, whatever
        // its AppsDomain setting says about the sourceFilter's host (SubscriptionController.IsAppSubscription).
        body.resourceFilter = derived;
    }
    if (alternativeSubjectFilter !== undefined && !alternativeSubject.test(alternativeSubjectFilter)) {
        throw new SubscriptionRequestError(
            `alternativeSubjectFilter "${alternativeSubjectFilter}" must look like /org/{organisation number} or /person/{national identity number}.`,
        );
    }
    if (body.includeSubunits === true && body.subjectFilter === undefined && alternativeSubjectFilter === undefined) {
        throw new SubscriptionRequestError('includeSubunits needs a subjectFilter.');
    }
    return { body, kind: 'app' };
}

/** The known fields under Altinn's spelling (case-insensitive, as Altinn binds them); unknown fields kept. */
function canonicalFields(input: Record<string, unknown>): Record<string, unknown> {
    const body: Record<string, unknown> = {};
    const seen = new Map<string, string>();
    for (const [key, value] of Object.entries(input)) {
        const known: KnownField | undefined = knownFields.find((name) => name.toLowerCase() === key.toLowerCase());
        const name = known ?? key;
        const earlier = seen.get(name.toLowerCase());
        if (earlier !== undefined) {
            throw new SubscriptionRequestError(
                `"${earlier}" and "${key}" are the same field to Altinn (names are not case-sensitive); keep one.`,
            );
        }
        seen.set(name.toLowerCase(), key);
        if (value === null) continue;
        body[name] = value;
    }
    return body;
}

function checkNonEmptyString(name: string, value: unknown): void {
    if (value === undefined) return;
    if (typeof value !== 'string') {
        throw new SubscriptionRequestError(`${name} must be a string.`);
    }
    if (value.trim() === '') {
        throw new SubscriptionRequestError(
            `${name} is empty: Altinn treats "" as a filter that matches nothing. Leave the field out to not filter.`,
        );
    }
    if (value !== value.trim()) {
        throw new SubscriptionRequestError(`${name} "${value}" has leading or trailing spaces.`);
    }
}

function parseUrl(name: string, value: string): URL {
    try {
        return new URL(value);
    } catch {
        throw new SubscriptionRequestError(`${name} "${value}" is not an absolute URL.`);
    }
}

/** Altinn: absolute https. Like the configuration, plain http is accepted for loopback hosts (the local stack). */
function checkEndPoint(value: unknown): void {
    if (typeof value !== 'string' || value.trim() === '') {
        throw new SubscriptionRequestError('endPoint must be a non-empty string (an absolute https URL).');
    }
    const url = parseUrl('endPoint', value);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
        throw new SubscriptionRequestError(
            `endPoint must use https (Altinn pushes only to https; http is accepted here only for localhost): "${url.protocol}//${url.host}${url.pathname}".`,
        );
    }
    if (url.username || url.password) {
        // https://ttd.apps.tt02.altinn.no@evil.example reads like Altinn but pushes to evil.example, with credentials.
        throw new SubscriptionRequestError(
            `endPoint must not carry a user name or password (the part before @): Altinn would push to ${url.host}, sending them along.`,
        );
    }
}

/** Exactly {AltinnAppsBaseUrl}/{org}/{app}: Altinn requires 2 path segments and no trailing slash. */
function checkSourceFilter(value: string, appsBaseUrl: string): { org: string; app: string } {
    const url = parseUrl('sourceFilter', value);
    const expected = `${appsBaseUrl}/{org}/{app}`;
    const apps = new URL(appsBaseUrl);
    if (url.protocol !== apps.protocol || url.host !== apps.host) {
        throw new SubscriptionRequestError(
            `sourceFilter "${value}" must be on AltinnAppsBaseUrl: ${expected} (events from elsewhere are never fetched).`,
        );
    }
    if (url.search || url.hash || url.username || url.password) {
        throw new SubscriptionRequestError(`sourceFilter "${value}" must be exactly ${expected}, with no query.`);
    }
    const segments = url.pathname.split('/').slice(1);
    if (segments.length !== 2 || segments.some((segment) => segment === '')) {
        const trailing = url.pathname.endsWith('/') ? ' without a trailing slash' : '';
        throw new SubscriptionRequestError(
            `sourceFilter "${value}" must be exactly ${expected}${trailing}: Altinn requires a valid app id in the source filter.`,
        );
    }
    const [org, app] = segments.map(decodeSegment);
    // The shapes an event source must have to be fetched (instances/source.ts); any other filter matches nothing useful.
    if (org === undefined || !/^[a-z0-9][a-z0-9-]*$/.test(org)) {
        throw new SubscriptionRequestError(
            `sourceFilter "${value}": "${org ?? segments[0]}" is not an org code (lower-case letters, digits and hyphens).`,
        );
    }
    if (app === undefined || !/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(app)) {
        throw new SubscriptionRequestError(
            `sourceFilter "${value}": "${app ?? segments[1]}" is not an app name (letters, digits and hyphens).`,
        );
    }
    return { org, app };
}

/** A path segment decoded; undefined when its percent-encoding is broken. */
function decodeSegment(segment: string): string | undefined {
    try {
        return decodeURIComponent(segment);
    } catch {
        return undefined;
    }
}

function stripBom(text: string): string {
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
