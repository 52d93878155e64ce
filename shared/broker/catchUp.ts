/**
 * BrokerCatchUp: files whose webhook never came. For each configured resource, ask Broker for the
 * published transfers where our recipient status is still Initialized (never downloaded) or
 * DownloadStarted (a download that never got confirmed), and queue a synthetic
 * `no.altinn.broker.published` event for each to broker-inbound, where BrokerProcessor treats it
 * like a webhook event (idempotently: a transfer queued twice is stored and confirmed once).
 *
 * Broker answers at most 100 ids per list call; when it does, there may be more, and they come on
 * the next run (confirmed transfers drop out of the list, so the next 100 move up).
 */
import {
    BROKER_LIST_LIMIT,
    callerOrganisationNumber,
    type BrokerClient,
    type RecipientFileTransferStatus,
} from '../altinn/broker';
import type { AltinnTokenProvider } from '../altinn/http';
import type { CloudEvent } from '../cloudEvent';
import type { AppConfig } from '../config';
import { viaAttribute } from '../ledger';
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
}

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
    const result: BrokerCatchUpResult = { queued: [], skipped: [], failedResources: [] };
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
        try {
            const seen = new Set<string>();
            for (const recipientStatus of UNCONFIRMED) {
                const ids = await deps.broker.list({ resourceId, status: 'Published', recipientStatus }, { logger });
                logStep(logger, 'catchup-listed', { resourceId, recipientStatus, count: ids.length });
                if (ids.length >= BROKER_LIST_LIMIT) {
                    warnStep(logger, 'catchup-list-full', {
                        resourceId,
                        recipientStatus,
                        count: ids.length,
                        detail: 'Broker returns at most 100; the rest come on the next runs',
                    });
                }
                for (const rawId of ids) {
                    const id = rawId.toLowerCase();
                    if (seen.has(id)) continue;
                    seen.add(id);
                    if (await isStoredAndConfirmed(deps, resourceId, id)) {
                        // Broker lags behind our confirmation: nothing to do.
                        logStep(logger, 'catchup-skipped', {
                            resourceId,
                            fileTransferId: id,
                            reason: 'stored-and-confirmed',
                        });
                        result.skipped.push(id);
                        continue;
                    }
                    const event = catchUpEvent(deps.broker.fileTransferBase, resourceId, id, organisation, now);
                    await deps.storage.enqueue(queues.brokerInbound, event);
                    logStep(logger, 'catchup-queued', {
                        resourceId,
                        fileTransferId: id,
                        eventId: event.id,
                        recipientStatus,
                    });
                    result.queued.push(id);
                }
            }
        } catch (error) {
            errorStep(logger, 'catchup-failed', { resourceId, error: errorMessage(error) });
            result.failedResources.push(resourceId);
        }
    }
    logStep(logger, 'catchup-done', {
        resources: deps.config.brokerResources.length,
        queued: result.queued.length,
        skipped: result.skipped.length,
        failed: result.failedResources.length || undefined,
    });
    if (result.failedResources.length > 0) {
        throw new Error(`Broker catch-up failed for ${result.failedResources.join(', ')}; the next run tries again`);
    }
    return result;
}
