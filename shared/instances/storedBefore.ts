/**
 * Whether an earlier invocation may already have stored an instance, so that storing it must
 * first look at the blobs to skip the data elements already there. Skipping those reads can only
 * ever cost a download again, never a missing blob or an overwrite (every write is then a create,
 * If-None-Match: *, and one that finds a blob looks at it), so they are skipped only when all of
 * these say "first time":
 *
 * - this is the message's first delivery (a retry may follow a store that got part or all of
 *   the way);
 * - the event came from the webhook: catch-up and reconciliation find what may have been stored
 *   already (reconciliation lists exactly the instances whose `complete` is missing, stored or not);
 * - no feedback is configured (with feedback the same instance is stored twice: at the task
 *   event and again at process completion);
 * - Altinn shows no `complete` by the owner. EventsProcessor confirms right after it stored,
 *   so a stored instance is a confirmed one, except in the moment between, or after a failed
 *   `complete` (then a duplicate event downloads again; the retries of events-confirmation never do).
 *
 * Altinn Storage records `complete` as a CompleteConfirmation whose StakeholderId is the calling
 * org (Altinn/altinn-storage, src/Storage/Controllers/InstancesController.cs, AddCompleteConfirmation).
 */
import type { Instance } from '../altinn/apps';
import type { AppConfig } from '../config';
import { viaOf } from '../ledger';
import type { InstanceEvent } from './pipeline';
import { confirmedBy } from './version';

export function mayBeStoredAlready(
    instance: Pick<Instance, 'completeConfirmations'>,
    message: Pick<InstanceEvent, 'ref' | 'fields' | 'event'>,
    config: Pick<AppConfig, 'feedback'>,
): boolean {
    if (message.fields.attempt !== 1) return true;
    if (viaOf(message.event) !== 'webhook') return true;
    if (config.feedback) return true;
    return confirmedBy(instance, message.ref.org);
}
