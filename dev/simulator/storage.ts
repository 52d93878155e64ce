import { sendDataElement, READ_SCOPE } from './apps';
import { authenticate, hasScope } from './authentication';
import { type SimCore } from './core';
import { sendEmpty, sendJson, sendJsonString } from './http';
import { instanceJson } from './models';
import { type RequestContext, type RouteDefinition } from './router';
import { queryInstances } from './storageQuery';

/*
 * Platform Storage reads (altinn-api.md §4.7): the instance and the data download that the
 * data elements' selfLinks.platform point at. 400 for party 0, 403 without read, 404 when unknown.
 */

const base = '/storage/api/v1/instances/{partyId:int}/{instanceGuid:guid}';

/* The texts of Storage's 400/404 answers are not in the contract document; these are the simulator's. */
async function lookup(core: SimCore, ctx: RequestContext) {
    if (Number(ctx.params.partyId) === 0) {
        sendJsonString(ctx.res, 400, 'Missing parameter value: instanceOwnerPartyId can not be 0');
        return undefined;
    }
    const principal = await authenticate(core, ctx);
    if (!principal) {
        return undefined;
    }
    const instance = core.state.instance(ctx.params.partyId, ctx.params.instanceGuid);
    if (!instance) {
        sendJsonString(
            ctx.res,
            404,
            `Unable to find any instance with id: ${ctx.params.partyId}/${ctx.params.instanceGuid}.`,
        );
        return undefined;
    }
    if (principal.org !== instance.org || !hasScope(principal, READ_SCOPE)) {
        sendEmpty(ctx.res, 403);
        return undefined;
    }
    return instance;
}

async function getInstance(core: SimCore, ctx: RequestContext): Promise<void> {
    const instance = await lookup(core, ctx);
    if (instance) {
        sendJson(ctx.res, 200, instanceJson(core.origins, instance, 'storage'));
    }
}

async function getData(core: SimCore, ctx: RequestContext): Promise<void> {
    const instance = await lookup(core, ctx);
    if (!instance) {
        return;
    }
    const element = instance.data.find((d) => d.id === ctx.params.dataGuid.toLowerCase());
    if (!element) {
        sendJsonString(ctx.res, 404, `Unable to find any data element with id: ${ctx.params.dataGuid}.`);
        return;
    }
    await sendDataElement(ctx, element);
}

/**
 * Storage's application metadata (src/Storage/Controllers/ApplicationsController.cs GetOne): anonymous;
 * the app's Application document, or 404 with the text "Could not find an application with appId=…"
 * (NotFound(string) under [Produces("application/json")]: a JSON string). An app is deployed here when
 * it was registered (control API `apps`)
 * or when any instance of it exists.
 */
function getApplication(core: SimCore, ctx: RequestContext): void {
    const { org, app } = ctx.params;
    const appId = `${org}/${app}`;
    const registered = core.state.apps.get(appId);
    const withInstances = [...core.state.instances.values()].some((i) => i.org === org && i.app === app);
    if (!registered && !withInstances) {
        sendJsonString(ctx.res, 404, `Could not find an application with appId=${appId}`);
        return;
    }
    const dataTypes = (registered?.dataTypes ?? []).map((type) => (typeof type === 'string' ? { id: type } : type));
    sendJson(ctx.res, 200, { id: appId, org, title: { nb: app }, dataTypes, partyTypesAllowed: {} });
}

export function storageRoutes(core: SimCore): RouteDefinition[] {
    return [
        {
            listener: 'platform',
            method: 'GET',
            path: '/storage/api/v1/applications/{org}/{app}',
            endpoint: 'storage.getApplication',
            handler: (ctx) => getApplication(core, ctx),
        },
        {
            listener: 'platform',
            method: 'GET',
            path: '/storage/api/v1/instances',
            endpoint: 'storage.queryInstances',
            handler: (ctx) => queryInstances(core, ctx),
        },
        {
            listener: 'platform',
            method: 'GET',
            path: base,
            endpoint: 'storage.getInstance',
            handler: (ctx) => getInstance(core, ctx),
        },
        {
            listener: 'platform',
            method: 'GET',
            path: `${base}/data/{dataGuid:guid}`,
            endpoint: 'storage.getData',
            handler: (ctx) => getData(core, ctx),
        },
    ];
}
