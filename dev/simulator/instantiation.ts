import { authenticate, hasScope } from './authentication';
import { type SimCore } from './core';
import { PROBLEM_UTF8, readBody, sendEmpty, sendJson, sendNegotiatedString } from './http';
import { createInstance, InstanceInputError } from './instances';
import { appsInstanceUrl, instanceResponseJson, taskTypeOf } from './models';
import { type RequestContext, type RouteDefinition } from './router';
import { type AppDefinition, type InstanceRecord } from './state';
import { type AppDefinitionInput } from './types';

/*
 * Apps that can be instantiated through the app API, as a service owner does (`aos smoke`):
 * POST /{org}/{app}/instances (app-lib-dotnet src/Altinn.App.Api/Controllers/InstancesController.cs
 * Post), and the org's side of process/next on tasks the org may not move (ProcessEngine.Next,
 * ProcessEngineAuthorizer, SigningTaskValidator). The rights are those the app template's policy
 * gives the owner org (Altinn/app-template-dotnet src/App/config/authorization/policy.xml, rule 2:
 * [ORG] may instantiate, read, write and complete; not confirm, not sign).
 */

const WRITE_SCOPE = 'altinn:serviceowner/instances.write';

/** The actions the template policy gives the owning org. */
const ORG_ACTIONS = ['instantiate', 'read', 'write', 'complete'];

export class AppDefinitionError extends Error {}

export function toAppDefinition(input: AppDefinitionInput, defaultOrg: string): AppDefinition {
    const org = input.org ?? defaultOrg;
    if (!input.app || !/^[a-z0-9-]+$/i.test(input.app) || !/^[a-z0-9-]+$/i.test(org)) {
        throw new AppDefinitionError('app (and org) must be non-empty names of letters, digits and dashes');
    }
    const tasks = (input.tasks ?? ['Task_1']).map((task) =>
        typeof task === 'string' ? { id: task, type: 'data' } : { id: task.id, type: task.type },
    );
    if (tasks.length === 0 || tasks.some((task) => !task.id || !task.type)) {
        throw new AppDefinitionError('tasks must name at least one task, each with an id and a type');
    }
    return { org, app: input.app, tasks, dataTypes: input.dataTypes };
}

export function registerApp(core: SimCore, input: AppDefinitionInput): AppDefinition {
    const definition = toAppDefinition(input, core.options.org);
    core.state.apps.set(`${definition.org}/${definition.app}`, definition);
    return definition;
}

/**
 * ProcessEngineAuthorizer.GetActionsThatAllowProcessNextForTaskType: the actions any of which lets a
 * caller move past a task of this type without naming an action.
 */
function actionsThatAllowProcessNext(taskType: string): string[] {
    switch (taskType) {
        case 'data':
        case 'feedback':
        case 'pdf':
        case 'eFormidling':
        case 'fiksArkiv':
        case 'subformPdf':
            return ['write'];
        case 'payment':
            return ['pay', 'write'];
        case 'confirmation':
            return ['confirm'];
        case 'signing':
            return ['sign', 'write'];
        default:
            return [taskType];
    }
}

/**
 * Why the owning org may not move this instance's process on, as app-lib answers it, or undefined:
 * 403 ProblemDetails (ProcessController.GetResultForError, ProcessErrorType.Unauthorized) for a task
 * none of whose actions the org has; 409 "Validation failed for task" with SigningTaskValidator's
 * MissingSignatures issue for a signing task, which only the signees can complete.
 */
export function orgProcessNextRefusal(instance: InstanceRecord): { status: number; body: unknown } | undefined {
    const task = instance.currentTask?.elementId;
    if (!task || instance.ended) return undefined;
    const type = taskTypeOf(instance, task);
    if (!actionsThatAllowProcessNext(type).some((action) => ORG_ACTIONS.includes(action))) {
        return {
            status: 403,
            body: {
                title: 'Unauthorized',
                status: 403,
                detail: `User is not authorized to perform process next. Task ID: ${task}. Task type: ${type}. Action: none.`,
            },
        };
    }
    if (type === 'signing') {
        return {
            status: 409,
            body: {
                title: 'Validation failed for task',
                status: 409,
                detail: `1 validation errors found for task ${task}`,
                validationIssues: [
                    {
                        severity: 1,
                        code: 'MissingSignatures',
                        description: 'Det mangler påkrevde signaturer.',
                        field: null,
                        source: 'Altinn.App.Core.Features.Validation.Default.SigningTaskValidator',
                    },
                ],
            },
        };
    }
    return undefined;
}

interface InstanceTemplate {
    instanceOwner?: { partyId?: unknown; organisationNumber?: unknown; personNumber?: unknown } | null;
}

/** The template from an application/json body (ExtractInstanceTemplate), undefined for none. */
async function readTemplate(ctx: RequestContext): Promise<InstanceTemplate | undefined | 'malformed'> {
    const body = await readBody(ctx.req, 1024 * 1024);
    const type = ctx.req.headers['content-type'] ?? '';
    if (body.length === 0 || !type.includes('application/json')) return undefined;
    try {
        const value = JSON.parse(body.toString('utf8')) as unknown;
        return value && typeof value === 'object' ? value : 'malformed';
    } catch {
        return 'malformed';
    }
}

/** InstancesController.Post for a service owner: the instance owner from the query or the template, the process started. */
async function instantiate(core: SimCore, ctx: RequestContext): Promise<void> {
    const principal = await authenticate(core, ctx);
    if (!principal) return;
    const definition = core.state.apps.get(`${ctx.params.org}/${ctx.params.app}`);
    if (!definition) {
        // No such app is deployed: the apps cluster has nothing on this path.
        sendEmpty(ctx.res, 404);
        return;
    }
    const template = await readTemplate(ctx);
    if (template === 'malformed') {
        sendNegotiatedString(ctx.req, ctx.res, 400, 'The instance template is not a JSON object.');
        return;
    }
    const query = ctx.url.searchParams.get('instanceOwnerPartyId');
    const owner = template?.instanceOwner ?? undefined;
    if (query === null && template === undefined) {
        sendNegotiatedString(
            ctx.req,
            ctx.res,
            400,
            'Cannot create an instance without an instanceOwner.partyId. Either provide instanceOwner party Id as a query parameter or an instanceTemplate object in the body.',
        );
        return;
    }
    if (query !== null && owner?.partyId !== undefined && owner?.partyId !== null) {
        sendNegotiatedString(
            ctx.req,
            ctx.res,
            400,
            'You cannot provide an instanceOwnerPartyId as a query param as well as an instance template in the body. Choose one or the other.',
        );
        return;
    }
    const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
    // InstanceOwner.PartyId is a string; Newtonsoft takes a number for it too.
    const given = owner?.partyId;
    const partyId = query ?? (typeof given === 'string' || typeof given === 'number' ? String(given) : undefined);
    const organisationNumber = text(owner?.organisationNumber);
    const personNumber = text(owner?.personNumber);
    if (partyId === undefined && !organisationNumber && !personNumber) {
        sendNegotiatedString(
            ctx.req,
            ctx.res,
            400,
            'Error: instanceOwnerPartyId query parameter is empty and InstanceOwner is missing from instance template. You must populate instanceOwnerPartyId or InstanceOwner',
        );
        return;
    }
    if (partyId !== undefined && !/^\d+$/.test(partyId)) {
        sendNegotiatedString(
            ctx.req,
            ctx.res,
            404,
            `Cannot lookup party: Failed to lookup party by partyId: ${partyId}`,
        );
        return;
    }
    // The template policy's rule for [ORG]: instantiate, with the scope for service-owner writes.
    if (principal.org !== definition.org || !hasScope(principal, WRITE_SCOPE)) {
        sendEmpty(ctx.res, 403);
        return;
    }
    const byNumber = organisationNumber ?? personNumber;
    const knownParty = byNumber
        ? core.state.partyIdFor(organisationNumber ? 'org' : 'person', byNumber)
        : Number(partyId);
    let instance: InstanceRecord;
    try {
        ({ instance } = createInstance(core, {
            org: definition.org,
            app: definition.app,
            partyId: knownParty,
            organisationNumber,
            personNumber,
            process: definition.tasks[0].id,
            tasks: definition.tasks.map((task) => task.id),
            dataTypes: definition.dataTypes,
        }));
    } catch (error) {
        if (!(error instanceof InstanceInputError)) throw error;
        sendNegotiatedString(ctx.req, ctx.res, 400, error.message);
        return;
    }
    instance.createdBy = principal.orgNumber ?? definition.org;
    instance.lastChangedBy = instance.createdBy;
    instance.taskTypes = Object.fromEntries(definition.tasks.map((task) => [task.id, task.type]));
    if (instance.registerEvents) core.publishInstanceEvent(instance, 'app.instance.created');
    sendJson(ctx.res, 201, instanceResponseJson(core.origins, instance), {
        Location: appsInstanceUrl(core.origins, instance),
    });
}

export function instantiationRoutes(core: SimCore): RouteDefinition[] {
    return [
        {
            listener: 'apps',
            method: 'POST',
            path: '/{org}/{app}/instances',
            endpoint: 'apps.instantiate',
            handler: (ctx) => instantiate(core, ctx),
        },
    ];
}

/** The 403/409 of orgProcessNextRefusal, as ProblemDetails. */
export function sendRefusal(ctx: RequestContext, refusal: { status: number; body: unknown }): void {
    sendJson(ctx.res, refusal.status, refusal.body, {}, PROBLEM_UTF8);
}
