/**
 * Gathers the status report from storage alone (ledger table, queues, blobs), never from Altinn,
 * so that the page answers fast and even when Altinn is down. A part that cannot be read is
 * reported as unavailable and the rest still shows.
 */
import type { AppConfig } from '../config';
import { ledgerOf } from '../ledger';
import { errorMessage } from '../log';
import type { Storage } from '../storage';
import { attentionOf } from './attention';
import { catchUpCursorStatuses } from './catchUpPart';
import { notEndedInstances, notHandedOffInstances } from './handOffPart';
import { configuredApps, neverConfirmedFiles, runStatuses, scopeStatuses } from './ledgerPart';
import { poisonQueueStatuses } from './poisonPart';
import { sentStatuses } from './sentPart';
import { redactTexts } from './privacy';
import { recoveryStatus } from './recoveryPart';
import { settledStatuses } from './settledPart';
import { statusWindowHours, type StatusReport } from './report';
import { subscriptionsStatus } from './subscriptionsPart';

export interface StatusDeps {
    /** `recovery` is absent when the settings are not known (an operator's `aos status --account`). */
    config: Pick<AppConfig, 'catchUpApps' | 'reconcileApps' | 'brokerResources'> & Partial<Pick<AppConfig, 'recovery'>>;
    storage: Storage;
    now?: () => Date;
}

export async function gatherStatus(deps: StatusDeps): Promise<StatusReport> {
    const now = deps.now?.() ?? new Date();
    const ledger = ledgerOf(deps.storage);
    const unavailable: StatusReport['unavailable'] = [];
    const part = async <T>(name: string, read: () => Promise<T>, fallback: T): Promise<T> => {
        try {
            return await read();
        } catch (error) {
            unavailable.push({ part: name, error: errorMessage(error) });
            return fallback;
        }
    };

    const settledPart = part('the ledger (gone or refused instances)', () => settledStatuses(ledger), []);
    const handOffParts = Promise.all([
        part('the ledger (instances not handed off)', () => notHandedOffInstances(ledger, now), []),
        part('the ledger (instances not ended)', () => notEndedInstances(ledger, now), []),
    ]);
    const [apps, brokerResources, neverConfirmed, runs, catchUpCursors, poisonQueues, subscriptions, sent] =
        await Promise.all([
            part(
                'the ledger (apps)',
                () => scopeStatuses(ledger, 'instance', configuredApps(deps.config), now, statusWindowHours),
                [],
            ),
            part(
                'the ledger (Broker resources)',
                () => scopeStatuses(ledger, 'brokerFile', deps.config.brokerResources, now, statusWindowHours),
                [],
            ),
            part('the ledger (Broker files never confirmed)', () => neverConfirmedFiles(ledger, now), []),
            part('the ledger (runs)', () => runStatuses(ledger), []),
            part('the catch-up cursors', () => catchUpCursorStatuses(deps.storage), []),
            part('the poison queues', () => poisonQueueStatuses(deps.storage), []),
            part('the subscription containers', () => subscriptionsStatus(deps.storage), {
                active: [],
                failed: [],
                pending: [],
                unknownToFiles: [],
            }),
            part('the ledger (files sent)', () => sentStatuses(ledger, now, statusWindowHours), {
                sentResources: [],
                sentFiles: [],
            }),
        ]);
    const { recovery } = deps.config;
    const settled = await settledPart;
    const [notHandedOff, processNotEnded] = await handOffParts;
    const report = {
        generatedAt: now.toISOString(),
        windowHours: statusWindowHours,
        apps,
        settled,
        brokerResources,
        neverConfirmedFiles: neverConfirmed,
        ...sent,
        notHandedOff,
        processNotEnded,
        runs,
        catchUpCursors,
        poisonQueues,
        subscriptions,
        recovery: recovery && recoveryStatus({ ...deps.config, recovery }),
        unavailable,
    };
    return redactTexts({ ...report, attention: attentionOf(report) });
}
