/**
 * Which Broker events this system acts on. Broker addresses each event to one party, with that
 * party's role in data.Role (altinn-broker src/Altinn.Broker.Integrations/Altinn/Events/AltinnEventBus.cs;
 * the type names are "no.altinn.broker." + the lowercased AltinnEventType,
 * src/Altinn.Broker.Core/Services/Enums/AltinnEventType.cs):
 *
 * - Role Recipient, on a configured resource: `published` (download the file) and
 *   `fileneverconfirmeddownloaded` (Broker purged a file we never confirmed: an operator must look).
 *   The echo of our own confirmation (`downloadconfirmed`) is dropped.
 * - Role Sender, on any resource: every event of a transfer we may have sent (filetransferinitialized,
 *   uploadprocessing, published, uploadfailed, downloadconfirmed, allconfirmeddownloaded,
 *   fileneverconfirmeddownloaded, filepurged). Whether we sent it is the ledger's answer
 *   (shared/brokerSend/follow.ts), not the event's.
 *
 * The subject (the party's organisation URN) is never what decides whose a transfer or a
 * confirmation is: Broker's downloadconfirmed to the sender carries the sender's subject, not the
 * recipient that confirmed (ConfirmDownloadHandler), and a subscription may deliver events addressed
 * to other parties. Who we are is the organisation of our own token, or BrokerOrgNumber.
 */
import type { CloudEvent } from '../cloudEvent';

export const PUBLISHED_EVENT_TYPE = 'no.altinn.broker.published';
/** PurgeFileTransferHandler: sent to each recipient that had not confirmed when the file was purged, and to the sender. */
export const NEVER_CONFIRMED_EVENT_TYPE = 'no.altinn.broker.fileneverconfirmeddownloaded';
export const RESOURCE_PREFIX = 'urn:altinn:resource:';
const TYPE_PREFIX = 'no.altinn.broker.';

/** AltinnEventType, as the lowercased suffix of the event type. */
export const brokerEventTypes = [
    'filetransferinitialized',
    'uploadprocessing',
    'published',
    'uploadfailed',
    'downloadconfirmed',
    'allconfirmeddownloaded',
    'filepurged',
    'fileneverconfirmeddownloaded',
] as const;
export type BrokerEventType = (typeof brokerEventTypes)[number];

/** What an accepted event asks for: a file for us to fetch, one we never confirmed, or news of one we sent. */
export type BrokerEventKind = 'published' | 'never-confirmed' | 'sent';

const RECIPIENT_KINDS: Partial<Record<BrokerEventType, BrokerEventKind>> = {
    published: 'published',
    fileneverconfirmeddownloaded: 'never-confirmed',
};

const FILETRANSFER_PATH = 'broker/api/v1/filetransfer';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type IgnoreReason = 'type' | 'resource' | 'source' | 'role' | 'resourceinstance';

export type BrokerEventDecision =
    | {
          accept: true;
          kind: BrokerEventKind;
          /** The event type without its prefix. */
          eventType: BrokerEventType;
          resourceId: string;
          /** Lowercase GUID. */
          fileTransferId: string;
          /** Set when the source is Broker's in another form than ours (see sourceMatch). */
          sourceDiffers?: true;
      }
    | { accept: false; reason: IgnoreReason; detail: string };

export interface BrokerEventConfig {
    brokerResources: readonly string[];
    /** `{platform}/broker/api/v1/filetransfer`, Broker's event source. */
    fileTransferBase: string;
}

/** data.Role as Broker sends it (a dictionary whose key keeps its capital R); undefined when absent. */
export function roleOf(data: unknown): string | undefined {
    if (!data || typeof data !== 'object' || Array.isArray(data)) return undefined;
    const entry = Object.entries(data as Record<string, unknown>).find(([key]) => key.toLowerCase() === 'role');
    return typeof entry?.[1] === 'string' ? entry[1] : undefined;
}

/** Altinn's own hosts: its platform and API gateways (platform.altinn.no, api.tt02.altinn.no, *.altinn.cloud). */
const ALTINN_HOST = /(^|\.)altinn\.(no|cloud)$/i;

/**
 * Broker builds `source` as PlatformGatewayUrl + "broker/api/v1/filetransfer" from its own setting
 * (AltinnEventBus.CreateCloudEvent), which need not have the form of our AltinnPlatformBaseUrl:
 * a trailing slash, doubled slashes, another gateway host, even a missing slash before "broker".
 * - 'same': our fileTransferBase, up to case and trailing slashes;
 * - 'form': the filetransfer path on our origin or on an Altinn host, in another form: accepted
 *   (only the id is used; every call goes to our own platform origin);
 * - 'foreign': anything else.
 */
export function sourceMatch(source: string, fileTransferBase: string): 'same' | 'form' | 'foreign' {
    const normalise = (text: string): string | undefined => {
        try {
            const url = new URL(text);
            return `${url.origin}${url.pathname.replace(/\/+$/, '')}`.toLowerCase();
        } catch {
            return undefined;
        }
    };
    const ours = normalise(fileTransferBase);
    const theirs = normalise(source);
    if (theirs === undefined || ours === undefined) return 'foreign';
    if (theirs === ours) return 'same';
    if (!theirs.replace(/\/{2,}/g, '/').endsWith(FILETRANSFER_PATH)) return 'foreign';
    const url = new URL(source);
    const ourOrigin = new URL(fileTransferBase).origin.toLowerCase();
    // "https://platform.tt02.altinn.nobroker/…" (a PlatformGatewayUrl without its slash) still names an Altinn host.
    const host = url.hostname.replace(/broker$/i, '');
    return url.origin.toLowerCase() === ourOrigin || ALTINN_HOST.test(host) ? 'form' : 'foreign';
}

function brokerEventType(type: string): BrokerEventType | undefined {
    const suffix = type.startsWith(TYPE_PREFIX) ? type.slice(TYPE_PREFIX.length) : '';
    return (brokerEventTypes as readonly string[]).includes(suffix) ? (suffix as BrokerEventType) : undefined;
}

export function decideBrokerEvent(event: CloudEvent, config: BrokerEventConfig): BrokerEventDecision {
    const eventType = brokerEventType(event.type);
    if (!eventType) {
        return { accept: false, reason: 'type', detail: `${event.type} is not an event type of Altinn Broker` };
    }
    const resource = event.resource ?? '';
    const resourceId = resource.startsWith(RESOURCE_PREFIX) ? resource.slice(RESOURCE_PREFIX.length) : undefined;
    if (!resourceId) {
        return { accept: false, reason: 'resource', detail: `resource ${resource || '(none)'} is not a resource URN` };
    }
    // Events from before Broker added data.Role were the recipient's.
    const role = roleOf(event.data) ?? 'Recipient';
    let kind: BrokerEventKind | undefined;
    if (role === 'Sender') {
        kind = 'sent';
    } else if (role === 'Recipient') {
        kind = RECIPIENT_KINDS[eventType];
        if (!kind) {
            return {
                accept: false,
                reason: 'type',
                detail: `as recipient only ${PUBLISHED_EVENT_TYPE} and ${NEVER_CONFIRMED_EVENT_TYPE} are acted on`,
            };
        }
        if (!config.brokerResources.includes(resourceId)) {
            return { accept: false, reason: 'resource', detail: `resource ${resource} is not one of BrokerResources` };
        }
    } else {
        return { accept: false, reason: 'role', detail: `data.Role is ${role}, neither Recipient nor Sender` };
    }
    // From here the event is ours (a file to us, or news of one we may have sent): what is wrong with it is not noise.
    const source = sourceMatch(event.source, config.fileTransferBase);
    if (source === 'foreign') {
        return { accept: false, reason: 'source', detail: `source is not ${config.fileTransferBase}` };
    }
    const instance = event.resourceinstance ?? '';
    if (!GUID.test(instance)) {
        return { accept: false, reason: 'resourceinstance', detail: 'resourceinstance is not a file transfer id' };
    }
    return {
        accept: true,
        kind,
        eventType,
        resourceId,
        fileTransferId: instance.toLowerCase(),
        ...(source === 'form' ? { sourceDiffers: true as const } : {}),
    };
}
