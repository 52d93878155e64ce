/**
 * Which Broker events this system acts on, for us as Recipient, on a configured resource, from
 * Broker itself: `no.altinn.broker.published` (download the file) and
 * `no.altinn.broker.fileneverconfirmeddownloaded` (Broker purged a file we never confirmed: an
 * operator must look). Everything else (the echoes of our own confirmation, `filepurged`, the
 * sender's events) is logged and dropped. The type names are "no.altinn.broker." + the lowercased
 * AltinnEventType (altinn-broker src/Altinn.Broker.Core/Services/Enums/AltinnEventType.cs,
 * src/Altinn.Broker.Integrations/Altinn/Events/AltinnEventBus.cs).
 */
import type { CloudEvent } from '../cloudEvent';

export const PUBLISHED_EVENT_TYPE = 'no.altinn.broker.published';
/** PurgeFileTransferHandler: sent to each recipient that had not confirmed when the file was purged. */
export const NEVER_CONFIRMED_EVENT_TYPE = 'no.altinn.broker.fileneverconfirmeddownloaded';
export const RESOURCE_PREFIX = 'urn:altinn:resource:';

/** What an accepted event asks for. */
export type BrokerEventKind = 'published' | 'never-confirmed';

const KINDS: Record<string, BrokerEventKind> = {
    [PUBLISHED_EVENT_TYPE]: 'published',
    [NEVER_CONFIRMED_EVENT_TYPE]: 'never-confirmed',
};

const FILETRANSFER_PATH = 'broker/api/v1/filetransfer';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type IgnoreReason = 'type' | 'resource' | 'source' | 'role' | 'resourceinstance';

export type BrokerEventDecision =
    | {
          accept: true;
          kind: BrokerEventKind;
          resourceId: string;
          /** Lowercase GUID. */
          fileTransferId: string;
          /** The recipient organisation from the subject, when it is Broker's organisation URN. */
          subjectOrganisation?: string;
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

export function decideBrokerEvent(event: CloudEvent, config: BrokerEventConfig): BrokerEventDecision {
    const kind = KINDS[event.type];
    if (!kind) {
        return {
            accept: false,
            reason: 'type',
            detail: `only ${PUBLISHED_EVENT_TYPE} and ${NEVER_CONFIRMED_EVENT_TYPE} are acted on`,
        };
    }
    const resource = event.resource ?? '';
    const resourceId = resource.startsWith(RESOURCE_PREFIX) ? resource.slice(RESOURCE_PREFIX.length) : undefined;
    if (!resourceId || !config.brokerResources.includes(resourceId)) {
        return {
            accept: false,
            reason: 'resource',
            detail: `resource ${resource || '(none)'} is not one of BrokerResources`,
        };
    }
    const source = sourceMatch(event.source, config.fileTransferBase);
    if (source === 'foreign') {
        return { accept: false, reason: 'source', detail: `source is not ${config.fileTransferBase}` };
    }
    const role = roleOf(event.data);
    if (role !== undefined && role !== 'Recipient') {
        return { accept: false, reason: 'role', detail: `data.Role is ${role}, not Recipient` };
    }
    const instance = event.resourceinstance ?? '';
    if (!GUID.test(instance)) {
        return { accept: false, reason: 'resourceinstance', detail: 'resourceinstance is not a file transfer id' };
    }
    const subject = /^urn:altinn:organization:identifier-no:(\d{9})$/.exec(event.subject ?? '');
    return {
        accept: true,
        kind,
        resourceId,
        fileTransferId: instance.toLowerCase(),
        ...(subject ? { subjectOrganisation: subject[1] } : {}),
        ...(source === 'form' ? { sourceDiffers: true as const } : {}),
    };
}
