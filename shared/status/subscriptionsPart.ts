/**
 * Subscriptions as the blob containers hold them (active, failed, waiting to be picked up), with
 * Altinn's validation state from the latest self-check (shared/subscriptions/selfCheck.ts): the
 * page never calls Altinn itself. Function keys in endpoints are never shown.
 */
import { containers } from '../names';
import type { Storage } from '../storage';
import { listNames, readText } from '../subscriptions/blobs';
import { readSubscriptionCheck } from '../subscriptions/selfCheck';
import { requestName } from '../subscriptions/service';
import type { FailedSubscriptionStatus, PendingSubscriptionStatus, SubscriptionsStatus } from './report';

function parseObject(text: string | undefined): Record<string, unknown> | undefined {
    try {
        const value: unknown = JSON.parse((text ?? '').replace(/^\uFEFF/, ''));
        return typeof value === 'object' && value !== null && !Array.isArray(value)
            ? (value as Record<string, unknown>)
            : undefined;
    } catch {
        return undefined;
    }
}

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

export async function subscriptionsStatus(storage: Storage): Promise<SubscriptionsStatus> {
    const active = storage.container(containers.activeSubscriptions);
    const failed = storage.container(containers.failedSubscriptions);
    const [activeNames, failedNames, addNames, removeNames, check] = await Promise.all([
        listNames(active),
        listNames(failed),
        listNames(storage.container(containers.addSubscriptions)),
        listNames(storage.container(containers.removeSubscriptions)),
        readSubscriptionCheck(storage),
    ]);
    const checked = new Map((check?.subscriptions ?? []).map((entry) => [entry.name, entry]));

    const activeStatuses = await Promise.all(
        activeNames.map(async (blobName) => {
            const name = requestName(blobName);
            const json = parseObject(await readText(active.getBlobClient(blobName)));
            const found = checked.get(name);
            return {
                name,
                id: typeof json?.id === 'number' ? json.id : undefined,
                filter: text(json?.sourceFilter) ?? text(json?.resourceFilter),
                typeFilter: text(json?.typeFilter),
                validated: found?.validated,
                inAltinn: found?.inAltinn,
                problem: found?.problem?.detail,
            };
        }),
    );
    const failedStatuses = await Promise.all(
        failedNames.map(async (blobName): Promise<FailedSubscriptionStatus> => {
            const record = parseObject(await readText(failed.getBlobClient(blobName)));
            const error = record?.error as { message?: unknown } | undefined;
            return {
                name: requestName(blobName),
                operation: text(record?.operation),
                failedAt: text(record?.failedAt),
                reason: text(error?.message) ?? 'no reason recorded',
            };
        }),
    );
    const pending: PendingSubscriptionStatus[] = [
        ...addNames.map((blobName) => ({ name: requestName(blobName), operation: 'add' as const })),
        ...removeNames.map((blobName) => ({ name: requestName(blobName), operation: 'remove' as const })),
    ];
    return {
        active: activeStatuses,
        failed: failedStatuses,
        pending,
        checkedAt: check?.checkedAt,
        unknownToFiles: check?.unknownToFiles ?? [],
    };
}
