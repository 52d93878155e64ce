import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PendingScans } from './brokerScans';
import { Counters } from './counters';
import { EventDelivery } from './eventDelivery';
import { Faults } from './faults';
import { appsInstanceUrl } from './models';
import { SimState, type InstanceRecord } from './state';
import { TokenService } from './tokens';
import { type ClientRegistration, type CloudEvent, type Origins, type SimulatorOptions } from './types';

/* The shared heart of one simulator: options, origins, state, tokens, counters, faults and event publishing. */

export interface ResolvedOptions {
    host: string;
    org: string;
    orgNumber: string;
    orgs: Record<string, string>;
    timeScale: number;
    deliveryTimeoutMs: number;
    maskinportenTokenLifetimeSeconds: number;
    altinnTokenLifetimeSeconds: number;
    eventsQueryDelaySeconds: number;
    eventsBaseUri: string;
    maxUploadBytes: number;
    clients: ClientRegistration[];
    brokerResources: string[];
    brokerMalwareScanMs: number;
    brokerMaxFileTransferSize?: number;
}

/** Digdir's organisation number: the exchange maps it to 'ttd' when test=true (§2). */
export const DIGDIR_ORG_NUMBER = '991825827';

export function resolveOptions(options: SimulatorOptions): ResolvedOptions {
    const org = options.org ?? 'ttd';
    const orgNumber = options.orgNumber ?? '405003309';
    return {
        host: options.host ?? '127.0.0.1',
        org,
        orgNumber,
        orgs: { [DIGDIR_ORG_NUMBER]: 'digdir', ...options.orgs, [orgNumber]: org },
        timeScale: options.timeScale ?? 1,
        deliveryTimeoutMs: options.deliveryTimeoutMs ?? 45_000,
        maskinportenTokenLifetimeSeconds: options.maskinportenTokenLifetimeSeconds ?? 600,
        altinnTokenLifetimeSeconds: options.altinnTokenLifetimeSeconds ?? 1800,
        eventsQueryDelaySeconds: options.eventsQueryDelaySeconds ?? 30,
        eventsBaseUri: options.eventsBaseUri ?? '{platform}',
        maxUploadBytes: options.maxUploadBytes ?? 25 * 1024 * 1024,
        clients: options.clients ?? [],
        brokerResources: options.brokerResources ?? [],
        brokerMalwareScanMs: options.brokerMalwareScanMs ?? 2000 * (options.timeScale ?? 1),
        ...(options.brokerMaxFileTransferSize !== undefined
            ? { brokerMaxFileTransferSize: options.brokerMaxFileTransferSize }
            : {}),
    };
}

const headAttributes = ['specversion', 'id', 'time', 'source', 'subject', 'type'];

/** CloudNative's structured JSON puts specversion, id, time, source, subject, type first, then extensions. */
export function canonicalEvent(event: Record<string, unknown>): CloudEvent {
    const ordered: Record<string, unknown> = {};
    for (const name of headAttributes) {
        if (event[name] !== undefined && event[name] !== null) {
            ordered[name] = event[name];
        }
    }
    for (const [name, value] of Object.entries(event)) {
        if (!headAttributes.includes(name) && value !== undefined && value !== null) {
            ordered[name] = value;
        }
    }
    return ordered as CloudEvent;
}

export class SimCore {
    readonly state = new SimState();
    readonly counters = new Counters();
    readonly faults = new Faults();
    readonly delivery = new EventDelivery(this);
    readonly brokerScans = new PendingScans();

    private constructor(
        readonly options: ResolvedOptions,
        private readonly logger: (line: string) => void,
        readonly origins: Origins,
        readonly tokens: TokenService,
    ) {}

    /** Origins are filled in once the listeners are bound. */
    static async create(options: ResolvedOptions, logger: (line: string) => void): Promise<SimCore> {
        const origins: Origins = { platformUrl: '', appsUrl: '', maskinportenUrl: '' };
        return new SimCore(options, logger, origins, await TokenService.create(origins));
    }

    log(line: string): void {
        this.logger(line);
    }

    #uploads: string | undefined;

    /** Where an uploaded Broker file is kept: a temporary folder of this simulator, removed by removeUploads(). */
    uploadPath(fileTransferId: string): string {
        this.#uploads ??= mkdtempSync(join(tmpdir(), 'aos-sim-broker-'));
        return join(this.#uploads, fileTransferId);
    }

    removeUploads(): void {
        if (this.#uploads) rmSync(this.#uploads, { recursive: true, force: true });
        this.#uploads = undefined;
    }

    orgForNumber(orgNumber: string | undefined): string | undefined {
        return orgNumber ? this.options.orgs[orgNumber] : undefined;
    }

    /**
     * Registers an event as the Events service does for app events (AppCloudEventExtensions): a new id,
     * the time, and resource/resourceinstance derived from an instance source on the apps origin.
     */
    publish(input: Partial<CloudEvent> & { type: string; source: string }, deliver = true): CloudEvent {
        const event: Record<string, unknown> = {
            specversion: '1.0',
            ...input,
            id: input.id ?? randomUUID(),
            time: input.time ?? new Date().toISOString(),
        };
        const appSource = new RegExp(
            `^${this.origins.appsUrl.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/([^/]+)/([^/]+)/instances/(\\d+)/([0-9a-fA-F-]{36})$`,
        ).exec(input.source);
        if (appSource) {
            event.resource ??= `urn:altinn:resource:app_${appSource[1]}_${appSource[2]}`;
            event.resourceinstance ??= `${appSource[3]}/${appSource[4]}`;
        }
        const stored = canonicalEvent(event);
        this.state.events.push({ event: stored, registeredAt: Date.now() });
        this.log(`event ${stored.type} ${stored.source}`);
        if (deliver) {
            this.delivery.published(stored);
        }
        return stored;
    }

    /** An app event for an instance, as app-lib's EventsClient builds it (§1.8). */
    publishInstanceEvent(instance: InstanceRecord, type: string, deliver = true): CloudEvent {
        // app-lib EventsClient.AddEvent: the organisation number first, then the person number.
        const alternativesubject = instance.organisationNumber
            ? `/org/${instance.organisationNumber}`
            : instance.personNumber
              ? `/person/${instance.personNumber}`
              : undefined;
        return this.publish(
            {
                source: appsInstanceUrl(this.origins, instance),
                subject: `/party/${instance.partyId}`,
                type,
                resource: `urn:altinn:resource:app_${instance.org}_${instance.app}`,
                resourceinstance: `${instance.partyId}/${instance.guid}`,
                ...(alternativesubject ? { alternativesubject } : {}),
            },
            deliver,
        );
    }
}
