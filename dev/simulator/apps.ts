import { randomUUID } from 'node:crypto';
import { authenticate, hasScope } from './authentication';
import { contentFromInput, contentSize, openContent } from './content';
import { type SimCore } from './core';
import {
    BodyTooLargeError,
    contentDisposition,
    filenameFromContentDisposition,
    PROBLEM_UTF8,
    readBody,
    sendEmpty,
    sendJson,
    sendNegotiatedString,
    sendPlainProblem,
    sendValidationProblem,
    streamBody,
} from './http';
import { dataRestrictionError } from './dataRestrictions';
import { moveProcess } from './instances';
import { orgProcessNextRefusal, sendRefusal } from './instantiation';
import {
    appProcessStateJson,
    dataElementJson,
    dataSelfLinks,
    instanceId,
    instanceJson,
    instanceResponseJson,
} from './models';
import { type RequestContext, type RouteDefinition } from './router';
import { type DataElementRecord, type InstanceRecord } from './state';
import { type Principal } from './tokens';

/*
 * The app API on the apps origin (altinn-api.md §4.1-4.6, app-lib-dotnet v8): GET instance
 * (InstanceResponse), GET data, legacy POST data?dataType=, process, substatus and complete.
 */

export const READ_SCOPE = 'altinn:serviceowner/instances.read';
export const WRITE_SCOPE = 'altinn:serviceowner/instances.write';

const base = '/{org}/{app}/instances/{partyId:int}/{instanceGuid:guid}';

function findInstance(core: SimCore, ctx: RequestContext): InstanceRecord | undefined {
    const instance = core.state.instance(ctx.params.partyId, ctx.params.instanceGuid);
    if (!instance || instance.org !== ctx.params.org || instance.app !== ctx.params.app) {
        return undefined;
    }
    return instance;
}

/** The owning org with the needed scope may act on its app's instances (XACML [ORG] rule + scope). */
function mayAct(principal: Principal, instance: InstanceRecord, scope: string): boolean {
    return principal.org === instance.org && hasScope(principal, scope);
}

function caller(principal: Principal): string {
    return principal.orgNumber ?? principal.org ?? 'unknown';
}

async function getInstance(core: SimCore, ctx: RequestContext): Promise<void> {
    const principal = await authenticate(core, ctx);
    if (!principal) {
        return;
    }
    const instance = findInstance(core, ctx);
    if (!instance) {
        sendNegotiatedString(
            ctx.req,
            ctx.res,
            404,
            `Did not find instance ${ctx.params.partyId}/${ctx.params.instanceGuid}`,
        );
        return;
    }
    if (!mayAct(principal, instance, READ_SCOPE)) {
        sendEmpty(ctx.res, 403);
        return;
    }
    core.counters.instanceRead(instanceId(instance));
    sendJson(ctx.res, 200, instanceResponseJson(core.origins, instance));
}

/** Streams a data element with its stored Content-Type and the filename in Content-Disposition. */
export async function sendDataElement(ctx: RequestContext, element: DataElementRecord): Promise<void> {
    ctx.contentKey = element.id;
    const headers: Record<string, string | number> = {
        'Content-Type': element.contentType,
        'Content-Length': contentSize(element.content),
    };
    const disposition = contentDisposition(element.filename);
    if (disposition) {
        headers['Content-Disposition'] = disposition;
    }
    await streamBody(ctx.res, 200, headers, openContent(element.content));
}

async function getData(core: SimCore, ctx: RequestContext): Promise<void> {
    const principal = await authenticate(core, ctx);
    if (!principal) {
        return;
    }
    const instance = findInstance(core, ctx);
    const id = `${ctx.params.partyId}/${ctx.params.instanceGuid}`;
    if (!instance) {
        sendPlainProblem(ctx.res, 404, 'Instance Not Found', `Did not find instance ${id}`);
        return;
    }
    const element = instance.data.find((d) => d.id === ctx.params.dataGuid.toLowerCase());
    if (!element) {
        sendPlainProblem(
            ctx.res,
            404,
            'Data Element Not Found',
            `Did not find data element ${ctx.params.dataGuid} on instance ${id}`,
        );
        return;
    }
    if (ctx.params.dataType !== undefined && ctx.params.dataType !== element.dataType) {
        sendNegotiatedString(
            ctx.req,
            ctx.res,
            400,
            `Data type ${ctx.params.dataType} does not match data element ${ctx.params.dataGuid}, which is of type ${element.dataType}`,
        );
        return;
    }
    if (!mayAct(principal, instance, READ_SCOPE)) {
        sendEmpty(ctx.res, 403);
        return;
    }
    await sendDataElement(ctx, element);
}

/** DataController.Create (legacy, [Obsolete] but used by the AOS): 400s are plain strings for old clients. */
async function postData(core: SimCore, ctx: RequestContext): Promise<void> {
    const principal = await authenticate(core, ctx);
    if (!principal) {
        return;
    }
    const instance = findInstance(core, ctx);
    if (!instance) {
        sendPlainProblem(
            ctx.res,
            404,
            'Instance Not Found',
            `Did not find instance ${ctx.params.partyId}/${ctx.params.instanceGuid}`,
        );
        return;
    }
    if (!mayAct(principal, instance, WRITE_SCOPE)) {
        sendEmpty(ctx.res, 403);
        return;
    }
    const dataTypeId = ctx.url.searchParams.get('dataType') ?? '';
    const dataType =
        instance.dataTypes === undefined
            ? { id: dataTypeId, form: false }
            : instance.dataTypes.find((type) => type.id === dataTypeId);
    if (dataTypeId === '' || dataType === undefined) {
        sendNegotiatedString(
            ctx.req,
            ctx.res,
            400,
            `Could not find the specified data type: "${dataTypeId}" in applicationmetadata.json`,
        );
        return;
    }
    // DataElementAccessChecker.GetMutationProblem (app-lib src/Altinn.App.Core/Internal/Data/DataElementAccessChecker.cs):
    // an archived or deleted instance is not active; checked before the current task.
    if (instance.archived !== undefined) {
        sendPlainProblem(
            ctx.res,
            409,
            'Instance Not Active',
            `Cannot update data element of archived or deleted instance ${instanceId(instance)}`,
        );
        return;
    }
    if (!instance.currentTask) {
        sendPlainProblem(ctx.res, 409, 'No current task', 'Cannot create data element without a current task');
        return;
    }
    // Create answers a 400 as the issues' descriptions joined with ';' (GetErrorDetails without the feature flag).
    const restriction = dataType.form ? undefined : dataRestrictionError(ctx.req.headers, dataType);
    if (restriction !== undefined) {
        sendNegotiatedString(ctx.req, ctx.res, 400, restriction);
        return;
    }
    const contentType = ctx.req.headers['content-type'];
    if (!contentType) {
        sendNegotiatedString(ctx.req, ctx.res, 400, 'The request is missing a content type header.');
        return;
    }
    let body: Buffer;
    try {
        body = await readBody(ctx.req, core.options.maxUploadBytes);
    } catch (err) {
        if (err instanceof BodyTooLargeError) {
            const mb = Math.floor(core.options.maxUploadBytes / (1024 * 1024));
            sendPlainProblem(
                ctx.res,
                413,
                'Request too large',
                `The request body is too large. The content length is ${err.received} bytes, which exceeds the limit of ${mb} MB`,
            );
            return;
        }
        throw err;
    }
    if (body.length === 0) {
        sendNegotiatedString(ctx.req, ctx.res, 400, 'Invalid data provided. Error: The file is zero bytes.');
        return;
    }
    const now = new Date().toISOString();
    const by = caller(principal);
    const element: DataElementRecord = {
        id: randomUUID(),
        instanceGuid: instance.guid,
        dataType: dataType.id,
        contentType,
        content: contentFromInput({ content: body.toString('base64'), encoding: 'base64' }, ''),
        created: now,
        createdBy: by,
        lastChanged: now,
        lastChangedBy: by,
        // The simulated apps' data types do not enable file scanning (DataController.cs: NotApplicable then).
        fileScanResult: 'NotApplicable',
    };
    const filename = filenameFromContentDisposition(ctx.req.headers['content-disposition']);
    if (filename !== undefined) {
        element.filename = filename;
    }
    instance.data.push(element);
    instance.lastChanged = now;
    instance.lastChangedBy = by;
    const json = dataElementJson(core.origins, instance, element, 'app');
    sendJson(ctx.res, 201, json, { Location: dataSelfLinks(core.origins, instance, element).apps });
}

async function getProcess(core: SimCore, ctx: RequestContext): Promise<void> {
    const principal = await authenticate(core, ctx);
    if (!principal) {
        return;
    }
    const instance = findInstance(core, ctx);
    if (!instance) {
        sendEmpty(ctx.res, 404);
        return;
    }
    if (!mayAct(principal, instance, READ_SCOPE)) {
        sendEmpty(ctx.res, 403);
        return;
    }
    sendJson(ctx.res, 200, appProcessStateJson(instance));
}

async function processNext(core: SimCore, ctx: RequestContext): Promise<void> {
    const principal = await authenticate(core, ctx);
    if (!principal) {
        return;
    }
    const instance = findInstance(core, ctx);
    if (!instance) {
        sendEmpty(ctx.res, 404);
        return;
    }
    if (!mayAct(principal, instance, WRITE_SCOPE)) {
        sendEmpty(ctx.res, 403);
        return;
    }
    const refusal = orgProcessNextRefusal(instance);
    if (refusal) {
        sendRefusal(ctx, refusal);
        return;
    }
    // ProcessController.GetResultForError (app-lib src/Altinn.App.Api/Controllers/ProcessController.cs): every
    // Conflict from ProcessEngine.Next is ProblemDetails with a validationIssues member (null unless validation failed).
    const errors = (instance.validationIssues ?? []).filter((issue) => issue.severity === 1);
    if (!instance.ended && instance.currentTask && errors.length > 0) {
        sendJson(
            ctx.res,
            409,
            {
                title: 'Validation failed for task',
                status: 409,
                detail: `${errors.length} validation errors found for task ${instance.currentTask.elementId}`,
                validationIssues: instance.validationIssues,
            },
            {},
            PROBLEM_UTF8,
        );
        return;
    }
    const moved = moveProcess(instance, 'next', caller(principal));
    if ('error' in moved) {
        sendJson(ctx.res, 409, { status: 409, detail: moved.error, validationIssues: null }, {}, PROBLEM_UTF8);
        return;
    }
    if (instance.registerEvents) {
        core.publishInstanceEvent(instance, moved.eventType);
    }
    sendJson(ctx.res, 200, appProcessStateJson(instance));
}

/**
 * PUT {instance}/substatus with {label, description}: Altinn/app-lib-dotnet
 * src/Altinn.App.Api/Controllers/InstancesController.cs UpdateSubstatus ([Authorize]; 400 "Invalid sub
 * status: … must be defined and include a label." before anything else; Forbid unless the token's
 * org is the instance's org; 200 with the updated Instance; event app.instance.substatus.changed),
 * passed on to Altinn/altinn-storage src/Storage/Controllers/InstancesController.cs UpdateSubstatus
 * (replaces status.substatus, sets lastChanged and lastChangedBy). The same body again leaves the
 * same state: idempotent apart from lastChanged and the event.
 *
 * The controller reads the instance (InstanceClient.GetInstance, which throws PlatformHttpException on
 * Storage's 404) before its try/catch, and no exception handler maps that outside Development
 * (WebApplicationBuilderExtensions.UseAltinnAppCommonConfiguration), so a missing instance answers
 * 500, not 404. It checks no scope: only that the token's org is the instance's org (case-insensitive),
 * else Forbid (403); Storage's UpdateSubstatus checks the same. (ScopeAuthorizationMiddleware adds a
 * scope check only for an app whose metadata defines custom API scopes.)
 */
async function substatus(core: SimCore, ctx: RequestContext): Promise<void> {
    const principal = await authenticate(core, ctx);
    if (!principal) {
        return;
    }
    let body: unknown;
    try {
        const raw = await readBody(ctx.req, 64 * 1024);
        body = raw.length > 0 ? JSON.parse(raw.toString('utf8')) : undefined;
    } catch {
        sendValidationProblem(ctx.res, {
            $: ['The JSON value could not be converted to Altinn.Platform.Storage.Interface.Models.Substatus.'],
        });
        return;
    }
    const sub = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : undefined;
    const label = sub?.label;
    if (typeof label !== 'string' || label === '') {
        sendNegotiatedString(
            ctx.req,
            ctx.res,
            400,
            `Invalid sub status: ${JSON.stringify(body ?? null)}. Substatus must be defined and include a label.`,
        );
        return;
    }
    const instance = findInstance(core, ctx);
    if (!instance) {
        sendEmpty(ctx.res, 500);
        return;
    }
    if (instance.org.toLowerCase() !== principal.org?.toLowerCase()) {
        sendEmpty(ctx.res, 403);
        return;
    }
    instance.substatus = { label, ...(typeof sub?.description === 'string' ? { description: sub.description } : {}) };
    instance.lastChanged = new Date().toISOString();
    instance.lastChangedBy = caller(principal);
    if (instance.registerEvents) {
        core.publishInstanceEvent(instance, 'app.instance.substatus.changed');
    }
    sendJson(ctx.res, 200, instanceJson(core.origins, instance, 'app'));
}

/** Storage's AddCompleteConfirmation through the app: adds the org's confirmation once; idempotent. */
async function complete(core: SimCore, ctx: RequestContext): Promise<void> {
    const principal = await authenticate(core, ctx);
    if (!principal) {
        return;
    }
    const instance = findInstance(core, ctx);
    if (!instance) {
        sendNegotiatedString(
            ctx.req,
            ctx.res,
            404,
            `Did not find instance ${ctx.params.partyId}/${ctx.params.instanceGuid}`,
        );
        return;
    }
    if (!mayAct(principal, instance, WRITE_SCOPE) || !principal.org) {
        sendEmpty(ctx.res, 403);
        return;
    }
    if (!instance.completeConfirmations.some((c) => c.stakeholderId === principal.org)) {
        const now = new Date().toISOString();
        instance.completeConfirmations.push({ stakeholderId: principal.org, confirmedOn: now });
        instance.lastChanged = now;
        instance.lastChangedBy = caller(principal);
    }
    core.counters.complete(instanceId(instance));
    sendJson(ctx.res, 200, instanceJson(core.origins, instance, 'app'));
}

export function appsRoutes(core: SimCore): RouteDefinition[] {
    const route = (
        method: string,
        path: string,
        endpoint: string,
        handler: (core: SimCore, ctx: RequestContext) => Promise<void> | void,
    ) => ({
        listener: 'apps' as const,
        method,
        path: `${base}${path}`,
        endpoint,
        handler: (ctx: RequestContext) => handler(core, ctx),
    });
    return [
        route('GET', '', 'apps.getInstance', getInstance),
        route('GET', '/data/{dataGuid:guid}', 'apps.getData', getData),
        route('GET', '/data/{dataGuid:guid}/type/{dataType}', 'apps.getData', getData),
        route('POST', '/data', 'apps.postData', postData),
        route('GET', '/process', 'apps.getProcess', getProcess),
        route('PUT', '/process/next', 'apps.processNext', processNext),
        route('PUT', '/substatus', 'apps.substatus', substatus),
        route('POST', '/complete', 'apps.complete', complete),
    ];
}
