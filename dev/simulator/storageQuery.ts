import { READ_SCOPE } from './apps';
import { authenticate, hasScope } from './authentication';
import { type SimCore } from './core';
import { sendEmpty, sendJson, sendJsonString, sendValidationProblem } from './http';
import { instanceJson } from './models';
import { type RequestContext } from './router';
import { type InstanceRecord } from './state';

/*
 * Storage's instance query for an application owner, GET {platform}/storage/api/v1/instances
 * (altinn-storage src/Storage/Controllers/InstancesController.cs GetInstances, AuthorizeOrgCaller,
 * ApplyQueryDefaults, BuildRequestLink; src/Storage/Models/InstanceQueryParameters.cs;
 * src/Storage/Repository/PgInstanceRepository.cs GetInstancesInternal;
 * src/Storage/Migration/FunctionsAndProcedures/readinstancefromquery.sql). What it supports:
 *
 * - an org token needs altinn:serviceowner/instances.read (403), and org or appId (400
 *   "Org or AppId must be defined."); org defaults to appId's first part; an org other than the
 *   token's is a cross-org read, which the simulator's PDP denies (403). No org claim: 400.
 * - filters org, appId, process.isComplete (true: process.ended set; false: a current task),
 *   process.currentTask (the instance's current task id, the `taskid` column; empty is no filter),
 *   excludeConfirmedBy (equal to org: Storage's confirmed=false, no complete confirmation by the
 *   org; another stakeholder: none by that one); includeDataElements=false answers every instance
 *   with `data: []` (the LEFT JOIN on data elements is off; GetInstancesInternal starts each with an
 *   empty list).
 * - order: `order` (SortBy) defaults to desc:lastChanged; anything not starting with "desc:" is
 *   ascending. The SQL orders by lastChanged (desc or asc) and then by the row id ASCENDING in both
 *   cases, and continues after the page's last row: ascending `lastchanged > t OR (= t AND id > k)`,
 *   descending `lastchanged < t OR (= t AND id < k)`. Descending, the continuation disagrees with the
 *   order inside a tie: rows of the last page's time with a higher id than its last row are never
 *   returned, and those with a lower one come again. The simulator does exactly that; ascending is
 *   consistent.
 * - size default 100; a full page gets `next` with continuationToken `{lastChanged ticks};{row id}`
 *   of its last row, URL-encoded by HttpUtility.UrlEncode and again by QueryBuilder, so the link
 *   carries it twice encoded and the controller decodes it once more (NormalizeContinuationToken).
 *   `self` is the request's link on the platform origin.
 * - QueryResponse {count, self, next, instances}; a null `next` is left out like every null in
 *   Storage's answers (the simulator's storage view omits nulls).
 */

/** .NET DateTime ticks (100 ns since 0001-01-01) of an ISO time, as the continuation token carries them. */
function ticksOf(iso: string): bigint {
    return (BigInt(Date.parse(iso)) + 62_135_596_800_000n) * 10_000n;
}

/** The repository's row id: the simulator numbers instances in the order they were created. */
function rowIds(core: SimCore): Map<InstanceRecord, number> {
    return new Map([...core.state.instances.values()].map((instance, index) => [instance, index + 1]));
}

function parseBool(value: string | null): boolean | undefined | 'invalid' {
    if (value === null || value === '') return undefined;
    if (/^true$/i.test(value)) return true;
    if (/^false$/i.test(value)) return false;
    return 'invalid';
}

export async function queryInstances(core: SimCore, ctx: RequestContext): Promise<void> {
    const principal = await authenticate(core, ctx);
    if (!principal) return;
    const q = ctx.url.searchParams;
    const isComplete = parseBool(q.get('process.isComplete'));
    const includeDataElements = parseBool(q.get('includeDataElements'));
    const sizeText = q.get('size');
    const bindingErrors: Record<string, string[]> = {};
    if (isComplete === 'invalid')
        bindingErrors['process.isComplete'] = [`The value '${q.get('process.isComplete')}' is not valid.`];
    if (includeDataElements === 'invalid')
        bindingErrors.includeDataElements = [`The value '${q.get('includeDataElements')}' is not valid.`];
    if (sizeText !== null && !/^-?\d+$/.test(sizeText)) bindingErrors.size = [`The value '${sizeText}' is not valid.`];
    if (Object.keys(bindingErrors).length > 0) return sendValidationProblem(ctx.res, bindingErrors);

    if (!principal.org) return sendEmpty(ctx.res, 400);
    if (!hasScope(principal, READ_SCOPE)) return sendEmpty(ctx.res, 403);
    const appId = q.get('appId') ?? '';
    let org = q.get('org') ?? '';
    if (org === '' && appId === '') return sendJsonString(ctx.res, 400, 'Org or AppId must be defined.');
    if (org === '') org = appId.split('/')[0];
    if (org.toLowerCase() !== principal.org.toLowerCase()) return sendEmpty(ctx.res, 403);

    const size = sizeText === null ? 100 : Number(sizeText);
    const excludeConfirmedBy = q.get('excludeConfirmedBy') ?? '';
    const currentTask = q.get('process.currentTask') ?? '';
    const ascending = !/^desc:/i.test(q.get('order') || 'desc:lastChanged');
    const rawToken = q.get('continuationToken') ?? '';
    const token = /^(\d+);(\d+)$/.exec(decodeURIComponent(rawToken));
    const after = token ? { ticks: BigInt(token[1]), id: Number(token[2]) } : undefined;
    const ids = rowIds(core);
    const matches = [...core.state.instances.values()]
        .filter((instance) => instance.org === org)
        .filter((instance) => appId === '' || `${instance.org}/${instance.app}` === appId)
        .filter((instance) => isComplete === undefined || (isComplete ? !!instance.ended : !!instance.currentTask))
        .filter((instance) => currentTask === '' || instance.currentTask?.elementId === currentTask)
        .filter(
            (instance) =>
                excludeConfirmedBy === '' ||
                !instance.completeConfirmations.some(
                    (c) => c.stakeholderId.toLowerCase() === excludeConfirmedBy.toLowerCase(),
                ),
        )
        .map((instance) => ({ instance, ticks: ticksOf(instance.lastChanged), id: ids.get(instance)! }))
        // ORDER BY lastChanged (ASC or DESC), id: the row id ascending either way.
        .sort((a, b) => (a.ticks === b.ticks ? a.id - b.id : a.ticks < b.ticks === ascending ? -1 : 1))
        .filter(
            ({ ticks, id }) =>
                !after ||
                (ascending
                    ? ticks > after.ticks || (ticks === after.ticks && id > after.id)
                    : ticks < after.ticks || (ticks === after.ticks && id < after.id)),
        );
    const page = size > 0 ? matches.slice(0, size) : [];
    const last = page[page.length - 1];
    const link = (continuationToken: string | undefined): string => {
        if (!continuationToken) return `${core.origins.platformUrl}${ctx.url.pathname}${ctx.url.search}`;
        const params = new URLSearchParams([...q].filter(([key]) => key !== 'continuationToken'));
        params.append('continuationToken', continuationToken);
        return `${core.origins.platformUrl}${ctx.url.pathname}?${params.toString()}`;
    };
    const body: Record<string, unknown> = {
        count: page.length,
        self: link(rawToken || undefined),
        instances: page.map(({ instance }) => {
            const json = instanceJson(core.origins, instance, 'storage');
            return includeDataElements === false ? { ...json, data: [] } : json;
        }),
    };
    if (page.length === size && last) {
        // HttpUtility.UrlEncode of the token (';' becomes %3b); URLSearchParams encodes it once more.
        body.next = link(`${last.ticks};${last.id}`.replace(';', '%3b'));
    }
    sendJson(ctx.res, 200, body);
}
