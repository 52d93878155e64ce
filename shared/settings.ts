/**
 * The catalogue of app settings: one entry per setting the code reads. docs/settings.md (its
 * table generated from here), local.settings.sample.json and infra/ are checked against this list by tests.
 */
export interface SettingSpec {
    description: string;
    example: string;
    default?: string;
    /** Secret values are never logged and never set by Bicep as plain values. */
    secret?: boolean;
    /** Local development only: Bicep leaves it unset in Azure. */
    localOnly?: boolean;
    /**
     * Unset is a valid configuration (a feature stays off, or something else is used). A setting
     * with neither a default nor this flag is required: the system cannot start without it.
     */
    optional?: boolean;
    /** Settings this one stands in for when it is set (the inline key instead of Key Vault). */
    replaces?: readonly string[];
}

export const settings = {
    AzureWebJobsStorage: {
        description:
            'Storage for queues, blobs and the ledger table. A connection string locally; in Azure the identity-based AzureWebJobsStorage__blobServiceUri, __queueServiceUri, __tableServiceUri, __credential and __clientId instead.',
        example: 'UseDevelopmentStorage=true',
    },
    AltinnPlatformBaseUrl: {
        description: 'Altinn platform origin (Events, Authentication, Storage, Broker).',
        example: 'https://platform.tt02.altinn.no',
    },
    AltinnAppsBaseUrl: {
        description: "The owner's apps origin; an event's source must be an instance URL on it.",
        example: 'https://ttd.apps.tt02.altinn.no',
    },
    MaskinportenBaseUrl: {
        description: "Maskinporten issuer; the JWT grant's aud is this plus '/'.",
        example: 'https://test.maskinporten.no',
    },
    MaskinportenClientId: {
        description: "The owner's Maskinporten client id.",
        example: '00000000-0000-0000-0000-000000000000',
    },
    MaskinportenScopes: {
        description:
            'Scopes to request, space separated. Instances need altinn:serviceowner/instances.read and .write; Broker adds altinn:broker.read (to receive), altinn:broker.write (to send) and altinn:events.subscribe.',
        example: 'altinn:serviceowner/instances.read altinn:serviceowner/instances.write',
    },
    MaskinportenKeyVaultUri: {
        description: 'Key Vault holding the Maskinporten signing key (PEM with certificate, private JWK, or PKCS#12).',
        example: 'https://kv-aos.vault.azure.net',
    },
    MaskinportenSecretName: {
        description: 'Name of the Key Vault secret (or imported certificate) with the signing key.',
        example: 'maskinporten-key',
    },
    MaskinportenKey: {
        description: 'The signing key inline (PEM private key plus certificate for x5c, or a private JWK).',
        example: '-----BEGIN PRIVATE KEY-----...',
        secret: true,
        localOnly: true,
        optional: true,
        replaces: ['MaskinportenKeyVaultUri', 'MaskinportenSecretName'],
    },
    MaskinportenKid: {
        description: 'Key id registered on the Maskinporten client; when set the grant carries kid instead of x5c.',
        example: 'aos-2026-01',
        optional: true,
    },
    AltinnTestMode: {
        description: 'true adds test=true to the token exchange (Digdir acting as ttd in TT02).',
        example: 'false',
        default: 'false',
    },
    ProcessedEventTypes: {
        description: 'Event types the processor downloads, comma or space separated.',
        example: 'app.instance.process.completed',
        default: 'app.instance.process.completed',
    },
    SubstatusLabel: {
        description:
            "Substatus label set on each instance after complete, which the citizen's Altinn inbox shows (plain text or an app text key). Unset: no substatus.",
        example: 'Mottatt av etaten',
        optional: true,
    },
    SubstatusDescription: {
        description: 'Substatus description set together with SubstatusLabel (plain text or an app text key).',
        example: 'Saken er mottatt og blir behandlet.',
        optional: true,
    },
    FeedbackEventType: {
        description:
            'Event type after which feedback is uploaded (a task event such as app.instance.process.movedTo.Task_2). Unset: no feedback.',
        example: 'app.instance.process.movedTo.Task_2',
        optional: true,
    },
    FeedbackDataType: {
        description: 'Data type of the feedback element uploaded to the instance.',
        example: 'feedback',
        optional: true,
    },
    FeedbackContentType: {
        description:
            'Content type of the feedback element, one of application/xml, text/xml, application/json, text/plain, text/csv, text/html, application/pdf; the file name gets the extension the app expects for it (feedback.xml, …).',
        example: 'application/xml',
        default: 'application/xml',
    },
    FeedbackTemplatePath: {
        description:
            'Template for the feedback (XML unless FeedbackContentType says otherwise), with {{instanceId}}, {{instanceGuid}}, {{partyId}}, {{org}}, {{app}}, {{receivedAt}} placeholders. Default: a built-in receipt.',
        example: 'templates/feedback.xml',
        optional: true,
    },
    DownloadConcurrency: {
        description: 'Data elements downloaded at once per instance.',
        example: '16',
        default: '16',
    },
    HttpTimeoutSeconds: {
        description: 'Timeout for connecting to Altinn and for each pause in a response body.',
        example: '100',
        default: '100',
    },
    HttpRetryBudgetSeconds: {
        description: 'How long one Altinn call may keep retrying transient failures before the invocation fails.',
        example: '60',
        default: '60',
    },
    ScanWaitHours: {
        description:
            "How long an instance with a data element Altinn's malware scan still reports as Pending is checked again before it fails (to the poison queue).",
        example: '24',
        default: '24',
    },
    ScanRecheckSeconds: {
        description:
            'How long the event of an instance with a Pending malware scan waits invisible on events-inbound before the instance is looked at again.',
        example: '300',
        default: '300',
    },
    ProcessEndWaitMinutes: {
        description:
            'How long a completed event for an instance whose process has not ended is checked again (pauses from 1 min up to 1 h) before it is recorded and left for catch-up and reconciliation; nothing is confirmed meanwhile.',
        example: '60',
        default: '60',
    },
    CatchUpApps: {
        description:
            "The deployment's apps (org/app, comma separated): caught up from the Events query API and, unless ReconcileApps names others, reconciled with Altinn Storage. Unset: nothing recovers a lost webhook push (the status page says so).",
        example: 'ttd/apps-test',
        optional: true,
    },
    CatchUpEnabled: {
        description:
            'false turns the catch-up off (EventsCatchUp and BrokerCatchUp): events whose webhook push was lost are then never fetched again. The status page warns while it is off.',
        example: 'true',
        default: 'true',
    },
    CatchUpSchedule: {
        description: 'Six-field NCRONTAB schedule of the catch-up timers.',
        example: '0 */10 * * * *',
        default: '0 */10 * * * *',
    },
    CatchUpFrom: {
        description: 'Where the first catch-up starts when no cursor exists yet (ISO 8601 with time zone).',
        example: '2026-01-01T00:00:00Z',
        optional: true,
    },
    ReconcileApps: {
        description:
            'Apps whose instances reconciliation looks up in Altinn Storage (complete, not confirmed by the owner), as org/app, comma separated. Default: CatchUpApps.',
        example: 'ttd/apps-test',
        optional: true,
    },
    ReconcileEnabled: {
        description:
            'false turns reconciliation off: an instance complete in Altinn that no event announced is then never found. The status page warns while it is off.',
        example: 'true',
        default: 'true',
    },
    ReconcileSchedule: {
        description: 'Six-field NCRONTAB schedule of reconciliation against Altinn Storage.',
        example: '0 0 * * * *',
        default: '0 0 * * * *',
    },
    SubscriptionsSchedule: {
        description: 'Six-field NCRONTAB schedule on which add-/remove-subscriptions files are picked up.',
        example: '0 */1 * * * *',
        default: '0 */1 * * * *',
    },
    BrokerResources: {
        description: 'Broker resource ids whose published files are downloaded, comma separated. Unset: no Broker.',
        example: 'ttd-broker-resource',
        optional: true,
    },
    BrokerOrgNumber: {
        description:
            "This system's organisation number to Broker: whose confirmations are ours, and the sender of what BrokerSender sends. Default: the Altinn token's (urn:altinn:orgNumber).",
        example: '991825827',
        optional: true,
    },
    HandoffWatchSchedule: {
        description:
            'Six-field NCRONTAB schedule on which HandoffWatch logs how long the oldest instances-received message has waited (step=handoff-waiting).',
        example: '0 */15 * * * *',
        default: '0 */15 * * * *',
    },
    InstanceMemoryMB: {
        description:
            "Memory of one instance in MB (Bicep: the plan's instanceMemoryMB). At start-up the app warns (step=memory-short) when the worst case of its concurrency does not fit. Unset: the process's memory limit.",
        example: '2048',
        optional: true,
    },
    AcceptedApps: {
        description:
            "Apps whose events are processed, as org/app, comma separated; an event for any other app goes to its queue's poison queue with the reason. Unset: every app on AltinnAppsBaseUrl.",
        example: 'ttd/apps-test',
        optional: true,
    },
    PoisonKeeperSchedule: {
        description:
            "Six-field NCRONTAB schedule on which PoisonKeeper adds the host's poison messages (which expire after 7 days) again without expiry.",
        example: '0 */30 * * * *',
        default: '0 */30 * * * *',
    },
} satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof settings;

export const settingNames = Object.keys(settings) as SettingName[];

/** The settings the system cannot start without: those with neither a default nor `optional`. */
export function requiredSettingNames(): SettingName[] {
    return settingNames.filter((name) => {
        const spec: SettingSpec = settings[name];
        return spec.default === undefined && !spec.optional;
    });
}
