/**
 * What Altinn's own instance document says about an instance, as the pipeline decides with it:
 *
 * - its version: what a stored copy consists of. Altinn's instance `lastChanged` moves on with
 *   every `complete`, substatus and read, so it cannot say whether the data changed; the version is
 *   the SHA-256 of the process's end and of every data element's id, lastChanged and size, and it
 *   changes exactly when there is something new to store (a new or changed element, or the process
 *   that ended). manifest.json, instance.json's metadata, the hand-off message and the ledger's
 *   hand-off fact carry it, so that "this version was stored, confirmed, handed off" can be told
 *   apart from "an older one was".
 * - whether its process has ended (`process.ended`, set with the end event: app-lib-dotnet
 *   src/Altinn.App.Core/Internal/Process/ProcessEngine.cs, which also clears currentTask), the one
 *   state in which `complete` may be called;
 * - whether the owner has confirmed it: Storage records `complete` as a CompleteConfirmation whose
 *   stakeholderId is the calling org (altinn-storage src/Storage/Controllers/InstancesController.cs,
 *   AddCompleteConfirmation).
 */
import { createHash } from 'node:crypto';
import type { Instance, ProcessState } from '../altinn/apps';

export function instanceVersion(instance: Pick<Instance, 'process' | 'data'>): string {
    const elements = (instance.data ?? [])
        .map((element) => [element.id.toLowerCase(), element.lastChanged ?? null, element.size] as const)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const canonical = JSON.stringify({ ended: instance.process?.ended ?? null, elements });
    return createHash('sha256').update(canonical).digest('hex');
}

export function hasEnded(process: ProcessState | null | undefined): boolean {
    return typeof process?.ended === 'string' && process.ended !== '';
}

/** Where the process stands, for a log line: "ended", the current task, or "not started". */
export function processPosition(process: ProcessState | null | undefined): string {
    if (hasEnded(process)) return 'ended';
    return process?.currentTask?.elementId ?? 'no task';
}

export function confirmedBy(instance: Pick<Instance, 'completeConfirmations'>, org: string): boolean {
    return (instance.completeConfirmations ?? []).some(
        (confirmation) => confirmation?.stakeholderId?.toLowerCase() === org.toLowerCase(),
    );
}

/**
 * Orders two of Altinn's ISO times (lastChanged): negative when `a` is earlier, 0 when the same,
 * positive when later. Altinn writes up to seven fraction digits, more than a Date holds, so equal
 * milliseconds are told apart by the digits after them. A missing or unreadable time is the
 * earliest of all, so that a copy without one never wins over a copy with one.
 */
export function compareChangeTimes(a: string | null | undefined, b: string | null | undefined): number {
    const [ms1, ms2] = [timeOf(a), timeOf(b)];
    if (ms1 === undefined || ms2 === undefined) return (ms1 === undefined ? 0 : 1) - (ms2 === undefined ? 0 : 1);
    if (ms1 !== ms2) return ms1 - ms2;
    const [f1, f2] = [subMillis(a!), subMillis(b!)];
    return f1 < f2 ? -1 : f1 > f2 ? 1 : 0;
}

function timeOf(value: string | null | undefined): number | undefined {
    if (!value) return undefined;
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
}

/** The fraction digits beyond the milliseconds, padded so that they compare as text. */
function subMillis(value: string): string {
    const fraction = /\.(\d+)/.exec(value)?.[1] ?? '';
    return fraction.slice(3).padEnd(6, '0');
}
