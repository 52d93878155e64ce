/**
 * BrokerCatchUp: files whose webhook never came. For each configured resource, ask Broker for the
 * published transfers where our recipient status is still Initialized (never downloaded) or
 * DownloadStarted (a download that never got confirmed), and queue a synthetic
 * `no.altinn.broker.published` event for each to broker-inbound, where BrokerProcessor treats it
 * like a webhook event (idempotently: a transfer queued twice is stored and confirmed once).
 *
 * Broker answers at most 100 ids per list call, the newest unless asked for the oldest
 * (orderAscending). Newest first, 100 transfers that keep failing (never confirmed, so always
 * listed) would hide every older one for good. So each run walks the whole list oldest first, a
 * page of 100 at a time: the next page starts (`from`, exclusive) just before the time the last
 * transfer of the page was published, which the sort uses (FileTransferRepository: sort_date is
 * when the transfer entered the `status` asked for). A transfer seen on two pages is queued once.
 *
 * A resource Broker refuses (401 NoAccessToResource: not registered, or this organisation has no
 * rights on it; 403: not a Broker resource, or the token lacks the scope) is logged at error naming
 * BrokerResources and skipped: the next run would be refused the same way.
 */
import {
    BROKER_LIST_LIMIT,
    callerOrganisationNumber,
    isNoAccessToResource,
    type BrokerClient,
    type RecipientFileTransferStatus,
} from '../altinn/broker';
import { AltinnHttpError } from '../altinn/errors';
import type { AltinnTokenProvider } from '../altinn/http';
import type { CloudEvent } from '../cloudEvent';
import type { AppConfig } from '../config';
import { ledgerOf, recordRun, viaAttribute } from '../ledger';
import { errorMessage, errorStep, logStep, warnStep, type StepLogger } from '../log';
import { containers, queues } from '../names';
import type { Storage } from '../storage';
import { PUBLISHED_EVENT_TYPE, RESOURCE_PREFIX } from './event';
import { CONFIRMED_METADATA, overviewBlobName } from './layout';

export interface BrokerCatchUpDeps {
    config: Pick<AppConfig, 'brokerResources'>;
    storage: Storage;
    broker: BrokerClient;
    /** To name our organisation as the events' subject, as Broker does. */
    tokens?: AltinnTokenProvider;
    now?: () => Date;
}

export interface BrokerCatchUpResult {
    queued: string[];
    skipped: string[];
    failedResources: string[];
    /** Resources Broker refused us (401 NoAccessToResource or 403): logged and skipped. */
    refusedResources: string[];
}

/** Pages of 100 per recipient status and resource in one run (5,000 transfers); the rest wait for the next run. */
export const MAX_LIST_PAGES = 50;

/** Recipient statuses that mean "not confirmed yet". */
const UNCONFIRMED: RecipientFileTransferStatus[] = ['Initialized', 'DownloadStarted'];

export function catchUpEvent(
    fileTransferBase: string,
    resourceId: string,
    fileTransferId: string,
    organisationNumber: string | undefined,
    now: Date,
): CloudEvent {
    return {
        specversion: '1.0',
        id: `catchup-${fileTransferId}`,
        time: now.toISOString(),
        source: fileTransferBase,
        type: PUBLISHED_EVENT_TYPE,
        ...(organisationNumber ? { subject: `urn:altinn:organization:identifier-no:${organisationNumber}` } : {}),
        resource: `${RESOURCE_PREFIX}${resourceId}`,
        resourceinstance: fileTransferId,
        data: { Role: 'Recipient' },
        [viaAttribute]: 'catchup',
    };
}

async function isStoredAndConfirmed(deps: BrokerCatchUpDeps, resourceId: string, id: string): Promise<boolean> {
    const blob = deps.storage.container(containers.broker).getBlobClient(overviewBlobName(resourceId, id));
    try {
        return Boolean((await blob.getProperties()).metadata?.[CONFIRMED_METADATA]);
    } catch (error) {
        if ((error as { statusCode?: number }).statusCode === 404) return false;
        throw error;
    }
}

export async function runBrokerCatchUp(deps: BrokerCatchUpDeps, logger: StepLogger): Promise<BrokerCatchUpResult> {
    const result: BrokerCatchUpResult = { queued: [], skipped: [], failedResources: [], refusedResources: [] };
    if (deps.config.brokerResources.length === 0) {
        logStep(logger, 'catchup-done', { resources: 0, queued: 0, skipped: 0 });
        return result;
    }
    const now = (deps.now ?? (() => new Date()))();
    let organisation: string | undefined;
    if (deps.tokens) {
        try {
            organisation = await callerOrganisationNumber(deps.tokens);
        } catch (error) {
            // Without a token the list calls fail below, with the reason; the subject is optional anyway.
            warnStep(logger, 'catchup-no-organisation', { error: errorMessage(error) });
        }
    }

    for (const resourceId of deps.config.brokerResources) {
        const before = { queued: result.queued.length, skipped: result.skipped.length };
        let failure: string | undefined;
        try {
            const seen = new Set<string>();
            for (const recipientStatus of UNCONFIRMED) {
                for await (const ids of listOldestFirst(deps, logger, resourceId, recipientStatus)) {
                    for (const id of ids.filter((id) => !seen.has(id))) {
                        seen.add(id);
                        await queueUnlessConfirmed(
                            deps,
                            logger,
                            result,
                            { resourceId, id, recipientStatus },
                            now,
                            organisation,
                        );
                    }
                }
            }
        } catch (error) {
            if (isNoAccessToResource(error) || (error instanceof AltinnHttpError && error.status === 403)) {
                errorStep(logger, 'catchup-no-access', {
                    resourceId,
                    setting: 'BrokerResources',
                    status: (error as AltinnHttpError).status,
                    detail: `Broker refuses this organisation the list of ${resourceId}: is it a Broker resource this organisation may receive on, and does MaskinportenScopes include altinn:broker.read?`,
                    error: errorMessage(error),
                });
                result.refusedResources.push(resourceId);
                continue;
            }
            failure = errorMessage(error);
            errorStep(logger, 'catchup-failed', { resourceId, error: failure });
            result.failedResources.push(resourceId);
        }
        const queued = result.queued.length - before.queued;
        await recordRun(ledgerOf(deps.storage), logger, {
            kind: 'catchup',
            subject: resourceId,
            at: now,
            found: queued + result.skipped.length - before.skipped,
            queued,
            error: failure,
        });
    }
    logStep(logger, 'catchup-done', {
        resources: deps.config.brokerResources.length,
        queued: result.queued.length,
        skipped: result.skipped.length,
        failed: result.failedResources.length || undefined,
        refused: result.refusedResources.length || undefined,
    });
    if (result.failedResources.length > 0) {
        throw new Error(`Broker catch-up failed for ${result.failedResources.join(', ')}; the next run tries again`);
    }
    return result;
}

/**
 * The published transfers on `resourceId` with our recipient status `recipientStatus` (latest by
 * timestamp), oldest first, page by page (lowercase ids).
 */
async function* listOldestFirst(
    deps: BrokerCatchUpDeps,
    logger: StepLogger,
    resourceId: string,
    recipientStatus: RecipientFileTransferStatus,
): AsyncGenerator<string[]> {
    let from: Date | undefined;
    const listed = new Set<string>();
    for (let page = 1; ; page++) {
        const ids = (
            await deps.broker.list(
                { resourceId, status: 'Published', recipientStatus, orderAscending: true, ...(from ? { from } : {}) },
                { logger },
            )
        ).map((id) => id.toLowerCase());
        logStep(logger, 'catchup-listed', { resourceId, recipientStatus, page, count: ids.length });
        const fresh = ids.filter((id) => !listed.has(id));
        fresh.forEach((id) => listed.add(id));
        yield fresh;
        if (ids.length < BROKER_LIST_LIMIT) return;
        if (fresh.length === 0 || page >= MAX_LIST_PAGES) {
            warnStep(logger, 'catchup-list-full', {
                resourceId,
                recipientStatus,
                pages: page,
                detail: 'more transfers than one run lists; the rest come on the next runs',
            });
            return;
        }
        from = await publishedBefore(deps, logger, ids[ids.length - 1]);
        if (!from) return;
    }
}

/**
 * Just before the time `id` was published: the next page's `from`. Broker's `from` is exclusive and
 * its times have microseconds where a Date has milliseconds, so one millisecond earlier keeps the
 * transfers published in the same millisecond on the next page (where they are recognised as seen).
 */
async function publishedBefore(deps: BrokerCatchUpDeps, logger: StepLogger, id: string): Promise<Date | undefined> {
    const { overview } = await deps.broker.overview(id, { logger });
    const changed = overview.fileTransferStatusChanged;
    const time = Date.parse(overview.published ?? (typeof changed === 'string' ? changed : ''));
    if (Number.isNaN(time)) {
        warnStep(logger, 'catchup-list-full', {
            fileTransferId: id,
            detail: 'the overview has no published time to continue the list from; the rest come on the next runs',
        });
        return undefined;
    }
    return new Date(time - 1);
}

async function queueUnlessConfirmed(
    deps: BrokerCatchUpDeps,
    logger: StepLogger,
    result: BrokerCatchUpResult,
    found: { resourceId: string; id: string; recipientStatus: RecipientFileTransferStatus },
    now: Date,
    organisation: string | undefined,
): Promise<void> {
    const { resourceId, id, recipientStatus } = found;
    if (await isStoredAndConfirmed(deps, resourceId, id)) {
        // Broker lags behind our confirmation, or lists a later download of a confirmed file as DownloadStarted.
        logStep(logger, 'catchup-skipped', { resourceId, fileTransferId: id, reason: 'stored-and-confirmed' });
        result.skipped.push(id);
        return;
    }
    const event = catchUpEvent(deps.broker.fileTransferBase, resourceId, id, organisation, now);
    await deps.storage.enqueue(queues.brokerInbound, event);
    logStep(logger, 'catchup-queued', { resourceId, fileTransferId: id, eventId: event.id, recipientStatus });
    result.queued.push(id);
}
