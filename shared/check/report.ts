/**
 * What `GET /api/check` answers and `aos check` prints: one row per check, each ok, warning or
 * failed, with what was found, one line of what to do, and how long it took.
 */
import { errorMessage } from '../log';

export type CheckStatus = 'ok' | 'warning' | 'failed';

export type CheckGroup =
    'settings' | 'storage' | 'key' | 'maskinporten' | 'altinn' | 'apps' | 'broker' | 'subscriptions';

export interface CheckResult {
    group: CheckGroup;
    /** What was checked, e.g. "Queue events-inbound". */
    name: string;
    status: CheckStatus;
    /** What was found. */
    detail: string;
    /** One line of what to do; absent when the check is ok. */
    action?: string;
    durationMs: number;
}

export interface CheckReport {
    generatedAt: string;
    durationMs: number;
    /** Where this deployment was taken to answer: subscriptions must push to one of these. */
    receiverUrls: string[];
    summary: Record<CheckStatus, number>;
    checks: CheckResult[];
}

/** A check's finding before it is timed. */
export interface Finding {
    status: CheckStatus;
    detail: string;
    action?: string;
}

export const ok = (detail: string): Finding => ({ status: 'ok', detail });
export const warning = (detail: string, action: string): Finding => ({ status: 'warning', detail, action });
export const failed = (detail: string, action: string): Finding => ({ status: 'failed', detail, action });

/**
 * Runs one check and times it. An error nobody expected is a failed check with its message, not a
 * failed run: every other check still answers.
 */
export async function timed(
    group: CheckGroup,
    name: string,
    work: () => Promise<Finding> | Finding,
): Promise<CheckResult> {
    const started = Date.now();
    let finding: Finding;
    try {
        finding = await work();
    } catch (error) {
        finding = failed(errorMessage(error), 'see the error; the check could not finish');
    }
    return { group, name, ...finding, durationMs: Date.now() - started };
}

export function summarise(checks: readonly CheckResult[]): Record<CheckStatus, number> {
    const summary: Record<CheckStatus, number> = { ok: 0, warning: 0, failed: 0 };
    for (const check of checks) summary[check.status]++;
    return summary;
}
