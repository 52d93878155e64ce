/**
 * Which Broker events this system acts on: `no.altinn.broker.published`, for us as Recipient, on a
 * configured resource, from Broker itself. Everything else is logged and dropped.
 */
import type { CloudEvent } from '../cloudEvent';

export const PUBLISHED_EVENT_TYPE = 'no.altinn.broker.published';
export const RESOURCE_PREFIX = 'urn:altinn:resource:';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type IgnoreReason = 'type' | 'resource' | 'source' | 'role' | 'resourceinstance';

export type BrokerEventDecision =
    | {
          accept: true;
          resourceId: string;
          /** Lowercase GUID. */
          fileTransferId: string;
          /** The recipient organisation from the subject, when it is Broker's organisation URN. */
          subjectOrganisation?: string;
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

function sameUrl(a: string, b: string): boolean {
    const normalise = (text: string): string | undefined => {
        try {
            const url = new URL(text);
            return `${url.origin}${url.pathname.replace(/\/+$/, '')}`.toLowerCase();
        } catch {
            return undefined;
        }
    };
    const left = normalise(a);
    return left !== undefined && left === normalise(b);
}

export function decideBrokerEvent(event: CloudEvent, config: BrokerEventConfig): BrokerEventDecision {
    if (event.type !== PUBLISHED_EVENT_TYPE) {
        return { accept: false, reason: 'type', detail: `only ${PUBLISHED_EVENT_TYPE} is downloaded` };
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
    if (!sameUrl(event.source, config.fileTransferBase)) {
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
        resourceId,
        fileTransferId: instance.toLowerCase(),
        ...(subject ? { subjectOrganisation: subject[1] } : {}),
    };
}
