/* The simulator's public shapes: options, control-API inputs and outputs. JSON over /sim/ uses the same names. */

export type Listener = 'platform' | 'apps' | 'maskinporten';

export interface Origins {
    /** Authentication, Storage, Events, Broker and the /sim/ control API. */
    platformUrl: string;
    /** The owner's apps: /{org}/{app}/instances/... */
    appsUrl: string;
    /** Maskinporten issuer (the grant's `aud` is this plus '/'). */
    maskinportenUrl: string;
}

export interface ClientKey {
    kid: string;
    /** Public RSA key as a JWK, or as an SPKI/PKCS#1 PEM. */
    jwk?: Record<string, unknown>;
    publicKeyPem?: string;
}

export interface ClientRegistration {
    clientId: string;
    /** Scopes the client may ask for (MP-200 otherwise). */
    scopes: string[];
    /** The organisation behind the client; default the simulator's orgNumber. */
    orgNumber?: string;
    /** PEM of the client's (virksomhets)certificate, for grants that carry `x5c`. */
    certificate?: string;
    /** Pre-registered keys, for grants that carry `kid`. */
    keys?: ClientKey[];
}

export interface SimulatorOptions {
    /** 0 (default) picks a free port. */
    platformPort?: number;
    appsPort?: number;
    maskinportenPort?: number;
    /** Interface to bind; default 127.0.0.1. Origins are http://{host}:{port}. */
    host?: string;
    /** The owner org code; default 'ttd'. */
    org?: string;
    /** The owner's organisation number; default '405003309'. */
    orgNumber?: string;
    /** Extra organisation number -> org code entries for the token exchange's org lookup. */
    orgs?: Record<string, string>;
    /** Multiplies every retry delay of validation and push (1 = real time; 0.001 in tests). */
    timeScale?: number;
    /** Per-request timeout of outbound pushes; default 45 000 ms (not scaled). */
    deliveryTimeoutMs?: number;
    /** Lifetime of Maskinporten access tokens; default 600 s (Maskinporten's docs show 599). */
    maskinportenTokenLifetimeSeconds?: number;
    /** Lifetime of exchanged Altinn tokens; default 1800 s (JwtValidityMinutes = 30). */
    altinnTokenLifetimeSeconds?: number;
    /** The Events query API hides events younger than this; default 30 s as the real SQL; use 0 in tests. */
    eventsQueryDelaySeconds?: number;
    /**
     * Events' GeneralSettings.BaseUri, which its `next` links start with (AppController.SetNextLink); `{platform}`
     * stands for the platform origin. Default `{platform}`; e.g. `{platform}/` or a gateway host to test the client.
     */
    eventsBaseUri?: string;
    /** Largest body accepted by POST data; default 25 MiB (413 above). */
    maxUploadBytes?: number;
    clients?: ClientRegistration[];
    /** Broker resources registered from the start; a resource is also registered by the first transfer on it. */
    brokerResources?: string[];
    /** How long Broker's malware scan of an upload takes before its (clean) result; default 2000 ms × timeScale. */
    brokerMalwareScanMs?: number;
    /** Every resource's MaxFileTransferSize (bytes); default none (only the 50 GB virus scan limit applies). */
    brokerMaxFileTransferSize?: number;
    /** Apps deployed from the start, which the app API can instantiate (see AppDefinitionInput). */
    apps?: AppDefinitionInput[];
    log?: (line: string) => void;
}

export interface InlineContent {
    /** Small content, as text (encoding 'utf8', default) or base64. */
    content: string;
    encoding?: 'utf8' | 'base64';
}

export interface GeneratedContent {
    /** Size in bytes of deterministic content derived from `seed` (see dataGenerator.ts). 0 is allowed. */
    size: number;
    seed?: string;
}

export type ContentInput = InlineContent | GeneratedContent;

/**
 * Altinn Storage's malware scan result of a data element, written as the enum name
 * (altinn-storage src/Storage.Interface/Enums/FileScanResult.cs; DataElement.FileScanResult has
 * StringEnumConverter and JsonStringEnumConverter in src/Storage.Interface/Models/DataElement.cs).
 */
export type FileScanResult = 'NotApplicable' | 'Pending' | 'Clean' | 'Infected';

export const fileScanResultValues: readonly FileScanResult[] = ['NotApplicable', 'Pending', 'Clean', 'Infected'];

export type DataElementInput = ContentInput & {
    dataType: string;
    contentType?: string;
    filename?: string;
    /**
     * Default NotApplicable: Storage sets Pending when the data type has enableFileScan, otherwise
     * NotApplicable (altinn-storage src/Storage/Controllers/DataController.cs, Create and Overwrite).
     */
    fileScanResult?: FileScanResult;
    /** Override the self links, e.g. to point one at a foreign origin in a test. */
    selfLinks?: { apps?: string; platform?: string };
};

export interface DataTypeInput {
    id: string;
    allowedContentTypes?: string[];
    form?: boolean;
}

export interface CreateInstanceInput {
    org?: string;
    app: string;
    partyId?: number;
    personNumber?: string;
    organisationNumber?: string;
    partyName?: string;
    instanceGuid?: string;
    /** 'completed' for an ended process, otherwise the id of the current task. Default 'Task_1'. */
    process?: string;
    /** The app's task sequence, used by process/next; default [the current task]. */
    tasks?: string[];
    dataElements?: DataElementInput[];
    /**
     * Data types the app accepts in POST data (default any non-empty): an id, or the id with the
     * restrictions of applicationmetadata.json: `allowedContentTypes`, and `form: true` for a type
     * with appLogic.classRef (its body is deserialised, so the file rules do not apply).
     */
    dataTypes?: (string | DataTypeInput)[];
    /**
     * Validation issues of the current task (app-lib ValidationIssueWithSource: severity 1 = Error, code,
     * description, field, source); an Error makes process/next answer 409 "Validation failed for task".
     */
    validationIssues?: { severity: number; code?: string; description?: string; field?: string; source: string }[];
    /**
     * true: publish app.instance.process.completed (completed) or app.instance.process.movedTo.{task};
     * a list: publish exactly these event types. Default false.
     */
    publish?: boolean | string[];
    /** Whether app-API process changes publish events (RegisterEventsWithEventsComponent); default true. */
    registerEvents?: boolean;
    /** false: events go to the query API only and are never pushed (a lost webhook). Default true. */
    deliver?: boolean;
    /**
     * When it was created and last changed (ISO, the process's times too); default now. Instances with
     * the same time tie in Storage's query order, which pages them by row id.
     */
    at?: string;
}

export interface CreatedDataElement {
    id: string;
    dataType: string;
    size: number;
    contentType: string;
    filename?: string;
    blobStoragePath: string;
    appsUrl: string;
    platformUrl: string;
}

export interface CreatedInstance {
    /** "{partyId}/{instanceGuid}" */
    id: string;
    partyId: number;
    instanceGuid: string;
    org: string;
    app: string;
    /** The instance on the apps origin (the app event `source`). */
    url: string;
    dataElements: CreatedDataElement[];
    events: CloudEvent[];
}

export interface MoveProcessInput {
    /** 'next', 'completed', or a task id. */
    to: string;
    /** Publish the process event; default true. */
    publish?: boolean;
    deliver?: boolean;
}

export type CloudEvent = Record<string, unknown> & {
    specversion: string;
    id: string;
    type: string;
    source: string;
    time?: string;
    subject?: string;
};

export interface PublishEventInput {
    /** At least `type` and `source`; id, time, specversion and (for app sources) resource/resourceinstance are filled in. */
    event: Partial<CloudEvent> & { type: string; source: string };
    /** false: store it for the query API only. Default true. */
    deliver?: boolean;
}

export type FileContentInput = ContentInput;

export type CreateFileTransferInput = ContentInput & {
    resourceId: string;
    fileName: string;
    /** Organisation numbers (with or without the 0192: prefix). */
    recipients: string[];
    /** Default the simulator's orgNumber. */
    sender?: string;
    sendersFileTransferReference?: string;
    propertyList?: Record<string, string>;
    /** MD5 hex of the content (Broker's checksum); computed unless false. */
    checksum?: boolean;
    /** Publish no.altinn.broker.published (sender and each recipient); default true. */
    publish?: boolean;
    deliver?: boolean;
};

export interface FaultInput {
    /** Endpoint name, e.g. 'apps.getInstance' or 'delivery' (see README). */
    endpoint: string;
    /** Only requests whose path (or, for 'delivery', endpoint URL) contains this. */
    pathContains?: string;
    /** For 'delivery': only pushes of this event type ('platform.events.validatesubscription' for validation). */
    eventType?: string;
    /** Answer this status instead of handling the request. */
    status?: number;
    /** Body for `status`: a string as is, anything else as JSON. */
    body?: unknown;
    contentType?: string;
    retryAfterSeconds?: number;
    /** Delay before anything else happens. */
    latencyMs?: number;
    /** Destroy the socket without answering. */
    reset?: boolean;
    /** Send the full Content-Length, then cut the connection after this many body bytes. */
    truncateAfterBytes?: number;
    /** How many matching requests it affects; default unlimited. */
    times?: number;
    /** Chance (0..1) that a matching request is affected; default 1. */
    probability?: number;
}

export interface Fault extends FaultInput {
    id: string;
    /** How many requests it has affected. */
    hits: number;
}

export interface DeliveryAttempt {
    attempt: number;
    at: string;
    status?: number;
    error?: string;
    faulted?: boolean;
    durationMs: number;
}

export type DeliveryState = 'pending' | 'delivered' | 'failed' | 'deadLettered' | 'cancelled';

export interface DeliveryRecord {
    id: string;
    kind: 'validation' | 'event';
    subscriptionId: number;
    eventId: string;
    eventType: string;
    endpoint: string;
    state: DeliveryState;
    attempts: DeliveryAttempt[];
    nextAttemptAt?: string;
}

export interface Subscription {
    id: number;
    endPoint: string;
    sourceFilter?: string;
    resourceFilter: string;
    subjectFilter?: string;
    typeFilter?: string;
    consumer: string;
    createdBy: string;
    created: string;
    validated: boolean;
    includeSubunits: boolean;
}

export interface IssueTokenInput {
    scopes: string[];
    orgNumber?: string;
    /** Altinn tokens only: the org code claim (default: looked up from orgNumber when a serviceowner scope is present). */
    org?: string | null;
    clientId?: string;
    /** Negative values give an already expired token. */
    expiresInSeconds?: number;
}

export interface ContentDigest {
    id: string;
    size: number;
    sha256: string;
    md5: string;
}

export interface DeliveryCounter {
    attempts: number;
    statuses: (number | string)[];
    state: DeliveryState;
}

export interface CountersSnapshot {
    /** endpoint -> status ('reset' for a destroyed socket) -> count */
    requests: Record<string, Record<string, number>>;
    /** Body bytes written per endpoint. */
    bytes: Record<string, number>;
    /** Body bytes written per data element id / file transfer id. */
    contentBytes: Record<string, number>;
    /** Requests carrying an Authorization header, per listener. */
    authorizationHeaders: Record<Listener, number>;
    grantsIssued: number;
    grantsRejected: number;
    grantsByClient: Record<string, number>;
    exchanges: number;
    /** Successful POST .../complete per instance id "{partyId}/{guid}". */
    completes: Record<string, number>;
    /** Successful GETs of the instance document (app API) per instance id "{partyId}/{guid}". */
    instanceReads: Record<string, number>;
    faultsApplied: Record<string, number>;
    /** subscriptionId -> eventId -> attempts */
    deliveries: Record<string, Record<string, DeliveryCounter>>;
}

export interface ResetOptions {
    /** Also forget registered Maskinporten clients (including those from options). Default false. */
    clients?: boolean;
}

/**
 * An Altinn task type (the altinn:taskType of a BPMN task, app-lib AltinnTaskTypes): data, feedback,
 * confirmation, signing, payment, …
 */
export interface AppTaskInput {
    id: string;
    type: string;
}

/**
 * An app deployed on the apps origin, so that `POST /{org}/{app}/instances` can instantiate it:
 * its process (tasks in order, each with its type) and the data types of applicationmetadata.json.
 */
export interface AppDefinitionInput {
    /** Default the simulator's org. */
    org?: string;
    app: string;
    /** Default one data task, Task_1. A bare string is a data task. */
    tasks?: (string | AppTaskInput)[];
    /** As in CreateInstanceInput; default any data type. */
    dataTypes?: (string | DataTypeInput)[];
}
