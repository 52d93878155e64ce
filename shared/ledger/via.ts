/**
 * How an event reached the pipeline. Events that catch-up and reconciliation queue carry the
 * CloudEvent extension attribute `aosvia` (a lower-case name, as CloudEvents 1.0 requires of
 * extension names); the receiver never adds it, so an event without it came through the webhook.
 */
import type { CloudEvent } from '../cloudEvent';
import { ledgerVias, type LedgerVia } from './keys';

export const viaAttribute = 'aosvia';

export function viaOf(event: CloudEvent): LedgerVia {
    const via = event[viaAttribute];
    return ledgerVias.includes(via as LedgerVia) ? (via as LedgerVia) : 'webhook';
}
