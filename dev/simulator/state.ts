import { type KeyObject, type X509Certificate } from 'node:crypto';
import { type ContentSource } from './content';
import { type CloudEvent, type DeliveryRecord, type FileScanResult, type Subscription } from './types';

/* Everything the simulator remembers, in memory. Large content is never stored: see content.ts. */

export interface RegisteredClient {
    clientId: string;
    scopes: string[];
    orgNumber: string;
    certificate?: X509Certificate;
    keys: Map<string, KeyObject>;
}

export interface DataElementRecord {
    id: string;
    instanceGuid: string;
    dataType: string;
    filename?: string;
    contentType: string;
    content: ContentSource;
    created: string;
    createdBy: string;
    lastChanged: string;
    lastChangedBy: string;
    fileScanResult: FileScanResult;
    selfLinkOverrides?: { apps?: string; platform?: string };
}

/** A data type of the app's applicationmetadata.json, as far as POST data checks it. */
export interface DataTypeRecord {
    id: string;
    allowedContentTypes?: string[];
    /** appLogic.classRef is set: form data, deserialised rather than checked as a file. */
    form: boolean;
}

export interface ValidationIssue {
    severity: number;
    code?: string;
    description?: string;
    field?: string;
    source: string;
    [member: string]: unknown;
}

export interface TaskState {
    elementId: string;
    started: string;
    flow: number;
}

export interface InstanceRecord {
    partyId: number;
    guid: string;
    org: string;
    app: string;
    personNumber?: string;
    organisationNumber?: string;
    partyName: string;
    partyUuid: string;
    created: string;
    createdBy: string;
    lastChanged: string;
    lastChangedBy: string;
    processStarted: string;
    currentTask?: TaskState;
    ended?: string;
    tasks: string[];
    archived?: string;
    substatus?: { label: string; description?: string };
    completeConfirmations: { stakeholderId: string; confirmedOn: string }[];
    data: DataElementRecord[];
    dataTypes?: DataTypeRecord[];
    /** What validation of the current task finds (ValidationIssueWithSource); severity 1 (Error) stops process/next. */
    validationIssues?: ValidationIssue[];
    /** Task id -> Altinn task type, for an instance of a registered app; a task not listed is a data task. */
    taskTypes?: Record<string, string>;
    registerEvents: boolean;
}

/** An app the apps origin serves (registered with SimulatorOptions.apps or the control API). */
export interface AppDefinition {
    org: string;
    app: string;
    tasks: { id: string; type: string }[];
    dataTypes?: (string | { id: string; allowedContentTypes?: string[]; form?: boolean })[];
}

export type RecipientStatus = 'Initialized' | 'DownloadStarted' | 'DownloadConfirmed';
export type FileTransferStatus =
    | 'Initialized'
    | 'UploadStarted'
    | 'UploadProcessing'
    | 'Published'
    | 'Cancelled'
    | 'AllConfirmedDownloaded'
    | 'Purged'
    | 'Failed';

export interface RecipientRecord {
    recipient: string;
    /**
     * The highest status reached, as Broker's overview and ConfirmDownloadHandler see it
     * (FileTransferRepository.GetLatestRecipientFileTransferStatuses takes MAX(status)).
     */
    status: RecipientStatus;
    /** The newest status time (MAX(date) in the same query). */
    changed: string;
    /** Every status in time order; the last is "latest by timestamp", which the list's recipientStatus filters on. */
    history: { status: RecipientStatus; changed: string }[];
    /** When a ranged download last recorded DownloadStarted (ms): Broker records one per 5 minutes. */
    rangedDownloadStartedAt?: number;
}

export interface FileTransferRecord {
    id: string;
    resourceId: string;
    fileName: string;
    sendersFileTransferReference?: string;
    checksum?: string;
    content: ContentSource;
    /** "0192:{orgnr}" */
    sender: string;
    recipients: RecipientRecord[];
    created: string;
    published: string;
    expirationTime: string;
    status: FileTransferStatus;
    statusChanged: string;
    statusHistory: { status: FileTransferStatus; changed: string }[];
    propertyList: Record<string, string>;
}

export interface StoredEvent {
    event: CloudEvent;
    /** When the simulator registered it (ms), for the query API's visibility delay. */
    registeredAt: number;
}

export class SimState {
    readonly clients = new Map<string, RegisteredClient>();
    /** Grant ids already used (MP-012) -> when they can be forgotten (ms). */
    readonly usedGrants = new Map<string, number>();
    readonly instances = new Map<string, InstanceRecord>();
    readonly events: StoredEvent[] = [];
    readonly subscriptions = new Map<number, Subscription>();
    readonly deliveries = new Map<string, DeliveryRecord>();
    readonly fileTransfers = new Map<string, FileTransferRecord>();
    /** "{org}/{app}" -> the deployed app; kept by reset, as clients are. */
    readonly apps = new Map<string, AppDefinition>();
    nextSubscriptionId = 1;
    nextPartyId = 50001001;

    reset(keepClients: boolean): void {
        if (!keepClients) {
            this.clients.clear();
        }
        this.usedGrants.clear();
        this.instances.clear();
        this.events.length = 0;
        this.subscriptions.clear();
        this.deliveries.clear();
        this.fileTransfers.clear();
        this.nextSubscriptionId = 1;
        this.nextPartyId = 50001001;
    }

    instance(partyId: number | string, guid: string): InstanceRecord | undefined {
        return this.instances.get(`${partyId}/${guid.toLowerCase()}`);
    }

    findDataElement(dataId: string): { instance: InstanceRecord; element: DataElementRecord } | undefined {
        const id = dataId.toLowerCase();
        for (const instance of this.instances.values()) {
            const element = instance.data.find((d) => d.id === id);
            if (element) {
                return { instance, element };
            }
        }
        return undefined;
    }

    /** Register's lookup of a person or organisation number to a party id, from the instances it knows. */
    partyIdFor(kind: 'person' | 'org', number: string): number | undefined {
        for (const instance of this.instances.values()) {
            if ((kind === 'person' ? instance.personNumber : instance.organisationNumber) === number) {
                return instance.partyId;
            }
        }
        return undefined;
    }
}
