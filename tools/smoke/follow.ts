/**
 * Follows one instance through the deployment after Altinn has it: first seen, stored, confirmed
 * (complete) and handed off (instances-received), as the deployment's ledger records them and its
 * status API (`GET /api/status?id=`) answers, or, for a deployment run here, its storage.
 */
import type { LedgerEntry } from '../../shared/ledger';
import { submissionStatus, type SubmissionStatus } from '../../shared/status';
import type { Storage } from '../../shared/storage';
import type { DeploymentClient } from '../deployment';

/** What the status answers about the instance; undefined while the deployment has not seen it. */
export type StatusSource = (instanceId: string) => Promise<LedgerEntry | undefined>;

/** The ledger entry with its dates as Date, whether it came as JSON or from the table. */
function revive(entry: LedgerEntry): LedgerEntry {
    const dates = ['firstSeenAt', 'storedAt', 'confirmedAt', 'handedOffAt', 'lastFailureAt', 'poisonedAt'] as const;
    const revived = { ...entry };
    for (const name of dates) {
        const value = entry[name] as Date | string | undefined;
        if (value !== undefined) revived[name] = new Date(value);
    }
    return revived;
}

export function remoteStatus(deployment: DeploymentClient): StatusSource {
    return async (instanceId) => {
        const { status, json } = await deployment.getJson<SubmissionStatus>(
            `status?id=${encodeURIComponent(instanceId)}`,
            30_000,
        );
        const entry = status === 404 ? undefined : json?.entries[0];
        return entry && revive(entry);
    };
}

export function localStatus(storage: Storage): StatusSource {
    return async (instanceId) => {
        const entry = (await submissionStatus(storage, instanceId)).entries[0];
        return entry && revive(entry);
    };
}

export type FollowStep = 'seen' | 'stored' | 'confirmed' | 'handed off' | 'failure' | 'poisoned';

export interface FollowOptions {
    timeoutMs: number;
    pollMs?: number;
    /** Called once per step as it is first seen. */
    report(step: FollowStep, detail: string): void;
}

/** Resolves 'handed-off', 'poisoned' or 'timeout'. */
export async function followInstance(
    status: StatusSource,
    instanceId: string,
    options: FollowOptions,
): Promise<'handed-off' | 'poisoned' | 'timeout'> {
    const deadline = Date.now() + options.timeoutMs;
    const told = new Set<string>();
    const tell = (step: FollowStep, key: string, detail: string) => {
        if (told.has(key)) return;
        told.add(key);
        options.report(step, detail);
    };
    for (;;) {
        const entry = await status(instanceId);
        if (entry) {
            if (entry.firstSeenAt) tell('seen', 'seen', `by the deployment, via ${entry.firstSeenVia ?? 'webhook'}`);
            if (entry.lastFailureAt) {
                const failure = `${entry.lastFailureStep ?? '?'}: ${entry.lastFailureError ?? ''}`;
                tell('failure', `failure ${entry.lastFailureAt.toISOString()}`, `${failure} (the queue retries it)`);
            }
            if (entry.storedAt) {
                const elements = entry.elements === undefined ? '' : `${entry.elements} element(s), `;
                tell('stored', 'stored', `${elements}${entry.bytes ?? 0} bytes in blob storage`);
            }
            if (entry.confirmed) tell('confirmed', 'confirmed', 'complete accepted by Altinn');
            if (entry.handedOffAt) {
                tell('handed off', 'handed off', 'on the instances-received queue for the case systems');
                return 'handed-off';
            }
            if (entry.poisonedAt) {
                tell('poisoned', 'poisoned', 'the message failed every attempt: npm run aos -- poison list');
                return 'poisoned';
            }
        }
        if (Date.now() >= deadline) return 'timeout';
        await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
    }
}
