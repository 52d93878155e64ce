/**
 * What a queued event is about, as the ledger names it. Used where only the raw message is at
 * hand (recording a failed attempt); the stages themselves build the subject from what they have
 * already checked. A message that names neither an instance nor a Broker file has no subject.
 */
import { RESOURCE_PREFIX, roleOf } from '../broker/event';
import type { LedgerKind, LedgerSubject } from './keys';

const GUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
/** The tail of an instance URL: /{org}/{app}/instances/{partyId}/{instanceGuid} (see instances/source.ts). */
const INSTANCE_TAIL = new RegExp(
    `/([a-z0-9][a-z0-9-]*)/([A-Za-z0-9][A-Za-z0-9-]*)/instances/([1-9][0-9]{0,17})/(${GUID})$`,
);

export function instanceSubject(ref: {
    org: string;
    app: string;
    partyId: string;
    instanceGuid: string;
}): LedgerSubject {
    return { kind: 'instance', org: ref.org, app: ref.app, partyId: ref.partyId, instanceGuid: ref.instanceGuid };
}

export function brokerFileSubject(resourceId: string, fileTransferId: string): LedgerSubject {
    return { kind: 'brokerFile', resourceId, fileTransferId };
}

/** The subject of a queued event of the given kind (the queue says which kind its events are). */
export function subjectOfMessage(message: unknown, kind: LedgerKind): LedgerSubject | undefined {
    if (typeof message !== 'object' || message === null) return undefined;
    const { source, resource, resourceinstance, data } = message as Record<string, unknown>;
    if (kind === 'brokerFile') {
        if (
            typeof resource === 'string' &&
            resource.startsWith(RESOURCE_PREFIX) &&
            typeof resourceinstance === 'string' &&
            new RegExp(`^${GUID}$`).test(resourceinstance)
        ) {
            const resourceId = resource.slice(RESOURCE_PREFIX.length);
            // An event to us as sender is about a file we sent, not one sent to us.
            return roleOf(data) === 'Sender'
                ? { kind: 'sentFile', resourceId, fileTransferId: resourceinstance.toLowerCase() }
                : brokerFileSubject(resourceId, resourceinstance);
        }
        return undefined;
    }
    const match = typeof source === 'string' ? INSTANCE_TAIL.exec(source) : null;
    if (!match) return undefined;
    const [, org, app, partyId, instanceGuid] = match;
    return instanceSubject({ org, app, partyId, instanceGuid: instanceGuid.toLowerCase() });
}
