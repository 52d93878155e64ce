import { authenticate, hasScope } from './authentication';
import { type SimCore } from './core';
import {
    isLoopbackHost,
    mediaType,
    readJson,
    sendEmpty,
    sendJson,
    sendJsonString,
    sendProblem,
    sendValidationProblem,
} from './http';
import { type RequestContext, type RouteDefinition } from './router';
import { type Principal } from './tokens';
import { type CloudEvent, type Subscription } from './types';

/*
 * Altinn Events (altinn-api.md §1): subscriptions, the app-owner query API with its `next` header,
 * and app event publishing. Errors are what the controllers return: JSON-quoted strings from
 * StatusCode(code, "message"), ProblemDetails from Problem(detail).
 */

const SUBSCRIBE_SCOPE = 'altinn:events.subscribe';
const APP_RESOURCE_PREFIX = 'urn:altinn:resource:app_';
const URN = /^urn:[a-z0-9][a-z0-9-]{0,31}:\S+$/i;

/** Absolute https URL; http is accepted for loopback hosts only, a documented deviation for the local stack. */
function parseWebUrl(value: unknown): URL | undefined {
    if (typeof value !== 'string') {
        return undefined;
    }
    try {
        const url = new URL(value);
        if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
            return url;
        }
    } catch {
        // not absolute
    }
    return undefined;
}

/** SubscriptionService.GetEntityFromPrincipal: /org/{org} for org tokens, else /organisation/{orgNo}. */
function entityOf(principal: Principal): string {
    if (principal.org) {
        return `/org/${principal.org}`;
    }
    return `/organisation/${principal.orgNumber ?? 'unknown'}`;
}

function optionalString(body: Record<string, unknown>, name: string): string | undefined {
    // Request binding is case-insensitive: endPoint and endpoint both bind.
    const key = Object.keys(body).find((k) => k.toLowerCase() === name.toLowerCase());
    const value = key === undefined ? undefined : body[key];
    return typeof value === 'string' ? value : undefined;
}

function subscriptionJson(sub: Subscription): Record<string, unknown> {
    const json: Record<string, unknown> = { id: sub.id, endPoint: sub.endPoint };
    if (sub.sourceFilter !== undefined) json.sourceFilter = sub.sourceFilter;
    json.resourceFilter = sub.resourceFilter;
    if (sub.subjectFilter !== undefined) json.subjectFilter = sub.subjectFilter;
    if (sub.typeFilter !== undefined) json.typeFilter = sub.typeFilter;
    json.consumer = sub.consumer;
    json.createdBy = sub.createdBy;
    json.created = sub.created;
    json.validated = sub.validated;
    json.includeSubunits = sub.includeSubunits;
    return json;
}

async function createSubscription(core: SimCore, ctx: RequestContext, principal: Principal): Promise<void> {
    if (mediaType(ctx.req) !== 'application/json') {
        sendProblem(ctx.res, 415);
        return;
    }
    let raw: unknown;
    try {
        raw = await readJson(ctx.req);
    } catch {
        sendValidationProblem(ctx.res, { $: ['The input was not valid JSON.'] });
        return;
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
        sendValidationProblem(ctx.res, { '': ['A non-empty request body is required.'] });
        return;
    }
    const body = raw as Record<string, unknown>;
    const endPoint = parseWebUrl(optionalString(body, 'endPoint'));
    if (!endPoint) {
        sendJsonString(ctx.res, 400, 'Missing or invalid endpoint to push events towards');
        return;
    }
    const sourceFilterText = optionalString(body, 'sourceFilter');
    const sourceFilter = sourceFilterText === undefined ? undefined : parseWebUrl(sourceFilterText);
    if (sourceFilterText !== undefined && !sourceFilter) {
        sendJsonString(ctx.res, 400, 'SourceFilter must be an absolute URL with the https scheme.');
        return;
    }
    let resourceFilter = optionalString(body, 'resourceFilter');
    let subjectFilter = optionalString(body, 'subjectFilter');
    const typeFilter = optionalString(body, 'typeFilter');
    const alternativeSubjectFilter = optionalString(body, 'alternativeSubjectFilter');
    const includeKey = Object.keys(body).find((k) => k.toLowerCase() === 'includesubunits');
    const includeSubunits = includeKey !== undefined && body[includeKey] === true;

    // PlatformSettings.AppsDomain: here the apps origin (host and port), since all three listeners share a host.
    const appsHost = new URL(core.origins.appsUrl).host;
    // IsAppSubscription compares the prefix with OrdinalIgnoreCase.
    const isApp =
        resourceFilter?.toLowerCase().startsWith(APP_RESOURCE_PREFIX) === true || sourceFilter?.host === appsHost;
    if (!isApp && !hasScope(principal, SUBSCRIBE_SCOPE)) {
        sendEmpty(ctx.res, 403);
        return;
    }
    if (resourceFilter !== undefined && resourceFilter !== '' && !URN.test(resourceFilter)) {
        sendJsonString(ctx.res, 400, 'Resource filter must be a valid urn');
        return;
    }
    if (resourceFilter === '') {
        resourceFilter = undefined;
    }

    if (isApp) {
        // AppSubscriptionService (src/Events/Services/AppSubscriptionService.cs): EnrichSubject, then ValidateSubscription.
        if (!subjectFilter && alternativeSubjectFilter) {
            // Register lookup of /org/, /organisation/ or /person/ to /party/{id}; not persisted.
            const m = /^\/(org|organisation|person)\/(\d+)$/.exec(alternativeSubjectFilter);
            const partyId = m ? core.state.partyIdFor(m[1] === 'person' ? 'person' : 'org', m[2]) : undefined;
            if (partyId !== undefined) {
                subjectFilter = `/party/${partyId}`;
            }
        }
        if (!principal.org && (subjectFilter === undefined || subjectFilter === '')) {
            sendJsonString(ctx.res, 400, 'A valid subject to the authenticated identity is required');
            return;
        }
        // An alternative subject Register cannot resolve is refused, also for an org.
        if (alternativeSubjectFilter && !subjectFilter) {
            sendJsonString(ctx.res, 400, 'A valid subject to the authenticated identity is required');
            return;
        }
        if (includeSubunits && !subjectFilter) {
            sendJsonString(ctx.res, 400, 'IncludeSubunits requires a subject filter.');
            return;
        }
        let derived: string | undefined;
        if (sourceFilter) {
            const segments = sourceFilter.pathname.split('/').slice(1);
            if (segments.length !== 2) {
                sendJsonString(ctx.res, 400, 'A valid app id is required in source filter {environment}/{org}/{app}');
                return;
            }
            derived = `${APP_RESOURCE_PREFIX}${segments[0]}_${segments[1]}`;
        }
        if (resourceFilter !== undefined && derived !== undefined && derived !== resourceFilter) {
            // Compared before the repository lowercases it: case-sensitive.
            sendJsonString(ctx.res, 400, 'Provided resource filter and source filter are not compatible');
            return;
        }
        resourceFilter ??= derived;
        if (resourceFilter === undefined) {
            sendJsonString(ctx.res, 400, 'A valid app id is required in source filter {environment}/{org}/{app}');
            return;
        }
        // XACML: an org may subscribe to its own apps' events.
        const appOrg = resourceFilter.slice(APP_RESOURCE_PREFIX.length).split('_')[0];
        if (principal.org?.toLowerCase() !== appOrg.toLowerCase()) {
            sendJsonString(ctx.res, 403, `Not authorized to create a subscription for resource ${resourceFilter}.`);
            return;
        }
    } else {
        // GenericSubscriptionService.ValidateSubscription (src/Events/Services/GenericSubscriptionService.cs).
        if (resourceFilter === undefined) {
            sendJsonString(ctx.res, 400, 'Resource filter is required.');
            return;
        }
        if (sourceFilterText !== undefined) {
            sendJsonString(ctx.res, 400, 'Source filter is not supported for subscriptions on this resource.');
            return;
        }
        if (alternativeSubjectFilter !== undefined) {
            sendJsonString(
                ctx.res,
                400,
                'AlternativeSubject filter is not supported for subscriptions on this resource.',
            );
            return;
        }
        if (includeSubunits && !subjectFilter) {
            sendJsonString(ctx.res, 400, 'IncludeSubunits requires a subject filter.');
            return;
        }
        const orgSubject = subjectFilter && /^urn:altinn:organization:identifier-no:(\d{9})$/.exec(subjectFilter);
        if (orgSubject && orgSubject[1] !== principal.orgNumber) {
            sendJsonString(ctx.res, 403, `Not authorized to create a subscription for resource ${resourceFilter}.`);
            return;
        }
    }

    // SubscriptionRepository stores and finds by ResourceFilter.ToLower(), SourceFilter.AbsoluteUri and
    // EndPoint.AbsoluteUri (src/Events/Repository/SubscriptionRepository.cs, find_subscription compares with =).
    resourceFilter = resourceFilter.toLowerCase();
    const sourceFilterStored = sourceFilter?.href;
    const consumer = entityOf(principal);
    const endpointText = endPoint.toString();
    const existing = [...core.state.subscriptions.values()].find(
        (s) =>
            s.resourceFilter === resourceFilter &&
            s.sourceFilter === sourceFilterStored &&
            s.subjectFilter === subjectFilter &&
            s.typeFilter === typeFilter &&
            s.consumer === consumer &&
            s.endPoint === endpointText &&
            s.includeSubunits === includeSubunits,
    );
    const sub: Subscription = existing ?? {
        id: core.state.nextSubscriptionId++,
        endPoint: endpointText,
        ...(sourceFilterStored !== undefined ? { sourceFilter: sourceFilterStored } : {}),
        resourceFilter,
        ...(subjectFilter !== undefined ? { subjectFilter } : {}),
        ...(typeFilter !== undefined ? { typeFilter } : {}),
        consumer,
        createdBy: consumer,
        created: new Date().toISOString(),
        validated: false,
        includeSubunits,
    };
    if (!existing) {
        core.state.subscriptions.set(sub.id, sub);
    }
    const json = subscriptionJson(sub);
    core.delivery.validate(sub);
    sendJson(ctx.res, 201, json, { Location: `/events/api/v1/subscription/${sub.id}` });
}

function ownedSubscription(core: SimCore, ctx: RequestContext, principal: Principal): Subscription | undefined {
    const sub = /^\d+$/.test(ctx.params.id) ? core.state.subscriptions.get(Number(ctx.params.id)) : undefined;
    if (!sub) {
        sendEmpty(ctx.res, 404);
        return undefined;
    }
    if (sub.createdBy !== entityOf(principal)) {
        sendEmpty(ctx.res, 403);
        return undefined;
    }
    return sub;
}

async function subscriptions(core: SimCore, ctx: RequestContext): Promise<void> {
    const principal = await authenticate(core, ctx);
    if (!principal) {
        return;
    }
    const method = ctx.req.method;
    if (method === 'POST') {
        await createSubscription(core, ctx, principal);
    } else if (method === 'GET' && ctx.params.id === undefined) {
        const mine = [...core.state.subscriptions.values()].filter((s) => s.consumer === entityOf(principal));
        sendJson(ctx.res, 200, { count: mine.length, subscriptions: mine.map(subscriptionJson) });
    } else if (method === 'GET') {
        const sub = ownedSubscription(core, ctx, principal);
        if (sub) {
            sendJson(ctx.res, 200, subscriptionJson(sub));
        }
    } else {
        const sub = ownedSubscription(core, ctx, principal);
        if (sub) {
            core.state.subscriptions.delete(sub.id);
            core.delivery.cancel(sub.id);
            sendEmpty(ctx.res, 200);
        }
    }
}

const TIMEZONE = /(Z|[+-]\d{2}:?\d{2})$/i;

/** .NET model binding of DateTime?: undefined when absent, 'invalid' when unparseable. */
function parseDate(value: string | null): { date: Date; hasZone: boolean } | 'invalid' | undefined {
    if (value === null || value === '') {
        return undefined;
    }
    const hasZone = TIMEZONE.test(value.trim());
    const date = new Date(hasZone ? value.trim() : `${value.trim()}Z`);
    return Number.isNaN(date.getTime()) ? 'invalid' : { date, hasZone };
}

/** ILIKE: case-insensitive, with % and _ wildcards. */
function ilike(pattern: string, value: string): boolean {
    const regex = pattern
        .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
        .replace(/%/g, '.*')
        .replace(/_/g, '.');
    return new RegExp(`^${regex}$`, 'is').test(value);
}

/** AppController.GetForOrg and getappevents_v2. */
async function query(core: SimCore, ctx: RequestContext): Promise<void> {
    const principal = await authenticate(core, ctx);
    if (!principal) {
        return;
    }
    if (!principal.org) {
        sendJsonString(ctx.res, 401, 'Only orgs can call this api');
        return;
    }
    const q = ctx.url.searchParams;
    const after = q.get('after') ?? '';
    const from = parseDate(q.get('from'));
    const to = parseDate(q.get('to'));
    const sizeText = q.get('size');
    const partyText = q.get('party');
    const bindingErrors: Record<string, string[]> = {};
    if (from === 'invalid') bindingErrors.from = [`The value '${q.get('from')}' is not valid.`];
    if (to === 'invalid') bindingErrors.to = [`The value '${q.get('to')}' is not valid.`];
    if (sizeText !== null && !/^-?\d+$/.test(sizeText)) bindingErrors.size = [`The value '${sizeText}' is not valid.`];
    if (partyText !== null && partyText !== '' && !/^-?\d+$/.test(partyText))
        bindingErrors.party = [`The value '${partyText}' is not valid.`];
    if (Object.keys(bindingErrors).length > 0) {
        sendValidationProblem(ctx.res, bindingErrors);
        return;
    }
    const size = sizeText === null ? 50 : Number(sizeText);
    const party = partyText ? Number(partyText) : 0;
    const unit = q.get('unit') ?? '';
    const person = typeof ctx.req.headers.person === 'string' ? ctx.req.headers.person : '';
    const problem = (detail: string): void => sendProblem(ctx.res, 400, detail);
    if (after === '' && from === undefined) return problem("The 'From' or 'After' parameter must be defined.");
    if (from && from !== 'invalid' && !from.hasZone)
        return problem("The 'From' parameter must specify timezone. E.g. 2022-07-07T11:00:53.3917Z for UTC");
    if (to && to !== 'invalid' && !to.hasZone)
        return problem("The 'To' parameter must specify timezone. E.g. 2022-07-07T11:00:53.3917Z for UTC");
    if (size < 1) return problem("The 'Size' parameter must be a number larger that 0.");
    if (person !== '' && party > 0) return problem("Only one of 'Party' or 'Person' can be defined.");
    if (unit !== '' && party > 0) return problem("Only one of 'Party' or 'Unit' can be defined.");
    if (unit !== '' && !/^\d{9}$/.test(unit)) return problem("Value of 'Unit' needs to be exactly 9 digits.");

    const resource = `urn:altinn:resource:app_${ctx.params.org}_${ctx.params.app}`;
    const types = q.getAll('type').filter((t) => t !== '');
    const events = core.state.events;
    let firstIndex = 0;
    if (after !== '') {
        // An unknown id counts as sequence number 0: everything (getappevents_v2).
        const index = events.findIndex((e) => e.event.id === after);
        firstIndex = index + 1;
    }
    // Only events registered at least eventsQueryDelaySeconds ago, unless none is that old (getappevents_v2).
    const cutoff = Date.now() - core.options.eventsQueryDelaySeconds * 1000;
    let lastIndex = -1;
    events.forEach((e, i) => {
        if (e.registeredAt <= cutoff) lastIndex = i;
    });
    if (lastIndex === -1) lastIndex = events.length - 1;
    // EventsService.GetAppEvents: unit or person is looked up in Register to a party and filters on the subject
    // /party/{id}; a number Register does not know is its 404, which AppController answers as 404.
    let partyId = party;
    if ((person !== '' || unit !== '') && party <= 0) {
        const found = person !== '' ? core.state.partyIdFor('person', person) : core.state.partyIdFor('org', unit);
        if (found === undefined) {
            sendEmpty(ctx.res, 404);
            return;
        }
        partyId = found;
    }
    const subject = partyId !== 0 ? `/party/${partyId}` : undefined;
    const result: CloudEvent[] = [];
    for (let i = firstIndex; i <= lastIndex && result.length < size; i++) {
        const e = events[i].event;
        if (e.resource !== resource) continue;
        if (subject !== undefined && e.subject !== subject) continue;
        const time = e.time ? Date.parse(e.time) : NaN;
        if (from && from !== 'invalid' && !(time >= from.date.getTime())) continue;
        if (to && to !== 'invalid' && !(time <= to.date.getTime())) continue;
        if (types.length > 0 && !types.some((t) => ilike(t, e.type))) continue;
        // XACML: the org reads only its own apps' events; others are filtered out, not refused.
        if (principal.org !== ctx.params.org) continue;
        result.push(e);
    }
    const headers: Record<string, string> = {};
    if (result.length > 0) {
        // SetNextLink starts with Events' own BaseUri (which may differ in form from the platform origin the client
        // knows), and appends the other query values as they were decoded, without re-encoding them.
        const baseUri = core.options.eventsBaseUri.replace('{platform}', core.origins.platformUrl);
        let next = `${baseUri}${ctx.url.pathname}?after=${result[result.length - 1].id}`;
        for (const [key, value] of q) {
            if (key !== 'after') next += `&${key}=${value}`;
        }
        headers.next = next;
    }
    sendJson(ctx.res, 200, result, headers, 'application/cloudevents+json; charset=utf-8');
}

/**
 * AppController.Post. The real endpoint needs a PlatformAccessToken from an Altinn app; the simulator
 * accepts that header without checking it and requires a valid Altinn token whose org owns the source.
 */
async function publish(core: SimCore, ctx: RequestContext): Promise<void> {
    const principal = await authenticate(core, ctx);
    if (!principal) {
        return;
    }
    if (mediaType(ctx.req) !== 'application/json') {
        sendProblem(ctx.res, 415);
        return;
    }
    let raw: unknown;
    try {
        raw = await readJson(ctx.req);
    } catch {
        sendValidationProblem(ctx.res, { $: ['The input was not valid JSON.'] });
        return;
    }
    const body = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
    const str = (name: string): string | undefined => {
        const value = body[name];
        return typeof value === 'string' && value !== '' ? value : undefined;
    };
    const source = str('source');
    const subject = str('subject');
    const type = str('type');
    const specversion = str('specversion');
    if (!source || !subject || !type || !specversion) {
        sendProblem(ctx.res, 400, 'Missing parameter values: source, subject and type cannot be null');
        return;
    }
    let sourceUrl: URL;
    try {
        sourceUrl = new URL(source);
    } catch {
        sendValidationProblem(ctx.res, { source: [`The value '${source}' is not valid.`] });
        return;
    }
    const sourceOrg = sourceUrl.pathname.split('/')[1];
    if (!principal.org || sourceOrg !== principal.org) {
        sendJsonString(ctx.res, 401, `${principal.org ?? ''} is not authorized to create events for ${source}`);
        return;
    }
    // AppCloudEventExtensions.CreateEvent keeps source, subject, type and alternativesubject: the request's
    // data, dataschema and contenttype are bound but never stored (src/Events/Extensions/AppCloudEventExtensions.cs).
    const event: Record<string, unknown> = { specversion, source, subject, type };
    const alternativesubject = str('alternativesubject');
    if (alternativesubject !== undefined) event.alternativesubject = alternativesubject;
    const stored = core.publish(event as CloudEvent);
    sendJson(ctx.res, 201, stored.id, { Location: subject });
}

export function eventsRoutes(core: SimCore): RouteDefinition[] {
    const subs = (method: string, path: string): RouteDefinition => ({
        listener: 'platform',
        method,
        path,
        endpoint: 'events.subscriptions',
        handler: (ctx) => subscriptions(core, ctx),
    });
    return [
        subs('POST', '/events/api/v1/subscriptions'),
        subs('GET', '/events/api/v1/subscriptions'),
        subs('GET', '/events/api/v1/subscriptions/{id}'),
        subs('DELETE', '/events/api/v1/subscriptions/{id}'),
        {
            listener: 'platform',
            method: 'GET',
            path: '/events/api/v1/app/{org}/{app}',
            endpoint: 'events.query',
            handler: (ctx) => query(core, ctx),
        },
        {
            listener: 'platform',
            method: 'POST',
            path: '/events/api/v1/app',
            endpoint: 'events.publish',
            handler: (ctx) => publish(core, ctx),
        },
    ];
}
