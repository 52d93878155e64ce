/**
 * The ledger: one entry per instance and Broker file the system has seen, in Azure Table Storage
 * (table `ledger`), so that an operator and the status page can answer "did we receive X?",
 * "what is waiting?" and "is anything stuck?" without searching blobs, queues and logs.
 *
 * Writes are merges of one fact each (first seen, stored, confirmed, failed, poisoned): repeating
 * one is harmless, and their order does not matter. A write never fails a stage: it is logged
 * (`step=ledger-write-failed`) and the stage goes on; the next attempt or stage writes again.
 * First seen is the one fact that must not move once written; it is an insert, not a merge.
 * EventsProcessor, which usually learns first seen, stored and confirmed in one invocation, writes
 * them together in that one insert at its end (deferred.ts): one table request per instance.
 * Later facts never clear earlier ones: an entry that was poisoned and later confirmed keeps its
 * poisonedAt as history (the status page reads `confirmed` first).
 */
import { odata, RestError, type TableClient, type TableEntityResult } from '@azure/data-tables';
import { errorMessage, warnStep, type StepLogger } from '../log';
import { redactPersonalData } from '../redact';
import { tables } from '../names';
import type { Storage } from '../storage';
import { sentFactsOf, type SentFacts } from './sentFacts';
import {
    idOf,
    partitionKeyOf,
    partitionRangeOf,
    rowKeyOf,
    type LedgerKind,
    type LedgerScope,
    type LedgerSubject,
    type LedgerVia,
} from './keys';

export interface LedgerEntry {
    kind: LedgerKind;
    /** Altinn's instance id `{partyId}/{instanceGuid}`, or the file transfer id. */
    id: string;
    org?: string;
    app?: string;
    resourceId?: string;
    firstSeenAt?: Date;
    firstSeenVia?: LedgerVia;
    /** The CloudEvent that first brought it. */
    firstEventId?: string;
    storedAt?: Date;
    elements?: number;
    bytes?: number;
    confirmed: boolean;
    confirmedAt?: Date;
    /** When the instances-received message for the owner's case systems was sent (after confirmation). */
    handedOffAt?: Date;
    lastFailureAt?: Date;
    lastFailureStep?: string;
    lastFailureError?: string;
    poisonedAt?: Date;
    /** A Broker file: Broker reported it expired without our confirmation (`fileneverconfirmeddownloaded`). */
    neverConfirmedAt?: Date;
    /** A file we sent (kind sentFile): how far it got (sentFacts.ts). */
    sent?: SentFacts;
    /**
     * An instance: handed off to instances-received (false from first sight until then; absent on
     * entries older than this fact), with the version of the manifest the message described.
     */
    handedOff?: boolean;
    handedOffVersion?: string;
    /** Recent event ids that were handled to the end (stored, confirmed, handed off), oldest first. */
    handledEventIds?: string[];
    /** A completed-type event, or process/next after feedback, found the process not ended: nothing was confirmed. */
    notEndedAt?: Date;
    /** Where the process stood then (the task, or "no task"). */
    notEndedTask?: string;
    notEndedEventId?: string;
    /** Altinn answered 404 for the instance: there is nothing left to store or confirm (settled.ts). */
    goneAt?: Date;
    /** Not for this system (an app outside AcceptedApps): its event went to poison with the reason (settled.ts). */
    refusedAt?: Date;
    refusedReason?: string;
    /** When reconciliation last queued it (shared/reconcile/requeue.ts). */
    reconcileQueuedAt?: Date;
    /** When its wait for Altinn's malware scan began (shared/instances/scanWait.ts). */
    scanPendingSince?: Date;
}

export interface FailureFact {
    /** The stage that failed: store, feedback, confirm, broker. */
    step: string;
    /** The error's text; stored with personal data redacted (Altinn's error bodies may quote a person number). */
    error: string;
}

/** Table properties hold up to 64 KiB; an error message needs far less. */
const maxErrorChars = 2_000;

/** The writes, bound to an invocation's logger. None of them ever rejects. */
export interface LedgerWriter {
    firstSeen(subject: LedgerSubject, via: LedgerVia, eventId?: string): Promise<void>;
    /** storedAt defaults to now; pass when it was stored earlier, so that a repeat does not move it. */
    stored(subject: LedgerSubject, facts: { elements?: number; bytes: number; storedAt?: Date }): Promise<void>;
    confirmed(subject: LedgerSubject): Promise<void>;
    failed(subject: LedgerSubject, failure: FailureFact): Promise<void>;
    poisoned(subject: LedgerSubject, failure: FailureFact): Promise<void>;
    /** Broker says the file expired and we never confirmed it; `at` is when Broker said so. */
    neverConfirmed(subject: LedgerSubject, at: Date): Promise<void>;
    /** The instances-received message for this version of the instance is on its queue. */
    handedOff(subject: LedgerSubject, version: string | undefined): Promise<void>;
    /** These events (the most recent `maxHandledEventIds`) were handled to the end. */
    handled(subject: LedgerSubject, eventIds: readonly string[]): Promise<void>;
    /** Nothing was confirmed because the process had not ended. */
    notEnded(subject: LedgerSubject, facts: NotEndedFacts): Promise<void>;
}

export interface NotEndedFacts {
    /** The task the process was in, or "no task". */
    task: string;
    eventId: string;
}

/** How many handled event ids an entry keeps: enough for the webhook's and catch-up's copies of the latest events. */
export const maxHandledEventIds = 8;

type Row = Record<string, unknown> & { partitionKey: string; rowKey: string };

export class Ledger {
    #created: Promise<void> | undefined;

    constructor(readonly table: TableClient) {}

    /** Creates the table once per process where it is missing (Bicep provisions it in Azure). */
    ensureTable(): Promise<void> {
        this.#created ??= this.table.createTable().catch((error: unknown) => {
            this.#created = undefined;
            throw error;
        });
        return this.#created;
    }

    /**
     * Runs one write: a failure is logged (`step=ledger-write-failed`, naming the fact) and never
     * reaches the caller, because a ledger write never fails a stage.
     */
    attempt(logger: StepLogger, fact: string, subject: LedgerSubject, work: () => Promise<unknown>): Promise<void> {
        return this.ensureTable()
            .then(work)
            .then(
                () => undefined,
                (error: unknown) =>
                    warnStep(logger, 'ledger-write-failed', {
                        fact,
                        kind: subject.kind,
                        id: idOf(subject),
                        error: errorMessage(error),
                    }),
            );
    }

    /** Merges facts into the entry, creating it when missing. */
    merge(subject: LedgerSubject, facts: Record<string, unknown>): Promise<unknown> {
        return this.table.upsertEntity({ ...identity(subject), ...facts }, 'Merge');
    }

    writer(logger: StepLogger): LedgerWriter {
        const write = (fact: string, subject: LedgerSubject, work: () => Promise<unknown>) =>
            this.attempt(logger, fact, subject, work);
        return {
            firstSeen: (subject, via, eventId) =>
                write('first-seen', subject, () => this.insertFirstSeen(subject, firstSeenFacts(via, eventId))),
            stored: (subject, facts) => write('stored', subject, () => this.merge(subject, storedFacts(facts))),
            confirmed: (subject) => write('confirmed', subject, () => this.merge(subject, confirmedFacts())),
            failed: (subject, failure) => write('failed', subject, () => this.merge(subject, failureFacts(failure))),
            poisoned: (subject, failure) =>
                write('poisoned', subject, () =>
                    this.merge(subject, { ...failureFacts(failure), poisonedAt: new Date() }),
                ),
            neverConfirmed: (subject, at) =>
                write('never-confirmed', subject, () => this.merge(subject, { neverConfirmedAt: at })),
            handedOff: (subject, version) =>
                write('handed-off', subject, () => this.merge(subject, handedOffFacts(version))),
            handled: (subject, eventIds) =>
                write('handled', subject, () => this.merge(subject, handledFacts(eventIds))),
            notEnded: (subject, facts) => write('not-ended', subject, () => this.merge(subject, notEndedFacts(facts))),
        };
    }

    /**
     * Inserts the entry with its first sight and any later facts already known (one request).
     * When it exists already (seen before, or a later fact was written while this one failed),
     * the first sight is added only if it is missing, and the later facts are merged.
     */
    async insertFirstSeen(subject: LedgerSubject, firstSeen: FirstSeenFacts, later: Record<string, unknown> = {}) {
        try {
            await this.table.createEntity({
                ...identity(subject),
                ...firstSeen,
                confirmed: false,
                ...notHandedOffYet(subject, false),
                ...later,
            });
            return;
        } catch (error) {
            if (statusOf(error) !== 409) throw error;
        }
        await this.#addFirstSeenIfMissing(subject, firstSeen);
        if (Object.keys(later).length > 0) await this.merge(subject, later);
    }

    async #addFirstSeenIfMissing(subject: LedgerSubject, firstSeen: FirstSeenFacts): Promise<void> {
        const existing = await this.table.getEntity<Row>(partitionKeyOf(subject)!, rowKeyOf(subject));
        if (existing.firstSeenAt !== undefined) return;
        try {
            await this.table.updateEntity(
                {
                    ...identity(subject),
                    ...firstSeen,
                    confirmed: existing.confirmed === true,
                    ...notHandedOffYet(subject, existing.handedOff === true),
                },
                'Merge',
                { etag: existing.etag },
            );
        } catch (error) {
            // 412: another writer changed it meanwhile; whatever it wrote is as good.
            if (statusOf(error) !== 412) throw error;
        }
    }

    /** One entry, or undefined when the ledger has never seen it. */
    async get(subject: LedgerSubject): Promise<LedgerEntry | undefined> {
        try {
            return entryOf(await this.table.getEntity<Row>(partitionKeyOf(subject)!, rowKeyOf(subject)));
        } catch (error) {
            if (statusOf(error) === 404) return undefined;
            throw error;
        }
    }

    /** One entry with its ETag, for a write that must not overwrite another's (mergeIfUnchanged). */
    async getForUpdate(subject: LedgerSubject): Promise<{ entry: LedgerEntry; etag: string } | undefined> {
        try {
            const row = await this.table.getEntity<Row>(partitionKeyOf(subject)!, rowKeyOf(subject));
            return { entry: entryOf(row), etag: row.etag };
        } catch (error) {
            if (statusOf(error) === 404) return undefined;
            throw error;
        }
    }

    /** Merges facts into the entry if no one changed it since it was read with `etag`; false when someone did. */
    async mergeIfUnchanged(subject: LedgerSubject, facts: Record<string, unknown>, etag: string): Promise<boolean> {
        try {
            await this.table.updateEntity({ ...identity(subject), ...facts }, 'Merge', { etag });
            return true;
        } catch (error) {
            if (statusOf(error) === 412) return false;
            throw error;
        }
    }

    /**
     * Every entry with this id: an instance id `{partyId}/{instanceGuid}`, an instance GUID, or a
     * file transfer id. A RowKey query across partitions, meant for an operator's look-up.
     */
    async find(id: string): Promise<LedgerEntry[]> {
        const guid = id.trim().toLowerCase().split('/').pop() ?? '';
        const entries = await this.#query(odata`RowKey eq ${encodeURIComponent(guid)}`);
        return id.includes('/') ? entries.filter((entry) => entry.id === id.trim().toLowerCase()) : entries;
    }

    /** Entries of the scope with any fact (first seen, stored, confirmed, failure) at or after `since`. */
    listSince(scope: LedgerScope, since: Date): Promise<LedgerEntry[]> {
        const after = odata`${since}`;
        const facts = ['firstSeenAt', 'storedAt', 'confirmedAt', 'lastFailureAt'].map((name) => `${name} ge ${after}`);
        return this.#query(`${scopeFilter(scope)} and (${facts.join(' or ')})`);
    }

    /**
     * Broker files that Broker reported as never confirmed at or after `since` and that we have not
     * confirmed since, newest first. (An entry without the property does not match the filter.)
     */
    async listNeverConfirmed(since: Date): Promise<LedgerEntry[]> {
        const entries = await this.#query(
            `${scopeFilter({ kind: 'brokerFile' })} and neverConfirmedAt ge ${odata`${since}`}`,
        );
        return entries
            .filter((entry) => !entry.confirmed)
            .sort((a, b) => (b.neverConfirmedAt?.getTime() ?? 0) - (a.neverConfirmedAt?.getTime() ?? 0));
    }

    /** Entries matching an OData filter, for the parts that keep facts of their own (sent.ts). */
    list(filter: string): Promise<LedgerEntry[]> {
        return this.#query(filter);
    }

    /**
     * Instances confirmed before `confirmedBefore` and never handed off, oldest confirmation first
     * (entries from before the hand-off fact existed carry no flag and are not listed).
     */
    async listNotHandedOff(confirmedBefore: Date): Promise<LedgerEntry[]> {
        const entries = await this.#query(
            `${scopeFilter({ kind: 'instance' })} and confirmed eq true and handedOff eq false and confirmedAt le ${odata`${confirmedBefore}`}`,
        );
        return entries.sort((a, b) => (a.confirmedAt?.getTime() ?? 0) - (b.confirmedAt?.getTime() ?? 0));
    }

    /** Instances found not ended at or after `since` and not confirmed since, newest first. */
    async listNotEnded(since: Date): Promise<LedgerEntry[]> {
        const entries = await this.#query(
            `${scopeFilter({ kind: 'instance' })} and confirmed eq false and notEndedAt ge ${odata`${since}`}`,
        );
        return entries
            .filter((entry) => !entry.goneAt && !entry.refusedAt)
            .sort((a, b) => (b.notEndedAt?.getTime() ?? 0) - (a.notEndedAt?.getTime() ?? 0));
    }

    /**
     * Entries of the scope not confirmed yet, oldest first sight first. Those settled without a
     * confirmation (gone in Altinn, refused) are not waiting for anything: listSettled has them.
     */
    async listUnconfirmed(scope: LedgerScope): Promise<LedgerEntry[]> {
        const entries = await this.#query(`${scopeFilter(scope)} and confirmed eq false`);
        return entries
            .filter((entry) => !entry.goneAt && !entry.refusedAt)
            .sort((a, b) => (a.firstSeenAt?.getTime() ?? 0) - (b.firstSeenAt?.getTime() ?? 0));
    }

    /**
     * Entries of the scope gone in Altinn or refused, and not confirmed. A table cannot ask whether
     * a property exists, so each fact is asked for as a date range from the epoch.
     */
    async listSettled(scope: LedgerScope): Promise<LedgerEntry[]> {
        const ever = odata`${new Date(0)}`;
        const entries = await this.#query(`${scopeFilter(scope)} and (goneAt ge ${ever} or refusedAt ge ${ever})`);
        return entries.filter((entry) => !entry.confirmed);
    }

    async #query(filter: string): Promise<LedgerEntry[]> {
        const entries: LedgerEntry[] = [];
        try {
            for await (const row of this.table.listEntities<Row>({ queryOptions: { filter } })) {
                entries.push(entryOf(row));
            }
        } catch (error) {
            if (statusOf(error) === 404) return []; // no table yet: nothing seen yet
            throw error;
        }
        return entries;
    }
}

function scopeFilter(scope: LedgerScope): string {
    const partitionKey = partitionKeyOf(scope);
    if (partitionKey) return odata`PartitionKey eq ${partitionKey}`;
    const { from, to } = partitionRangeOf(scope.kind);
    return odata`PartitionKey ge ${from} and PartitionKey lt ${to}`;
}

/** The properties every write carries, so that whichever write comes first makes a readable entry. */
function identity(subject: LedgerSubject): Row {
    const keys = { partitionKey: partitionKeyOf(subject)!, rowKey: rowKeyOf(subject), kind: subject.kind };
    return subject.kind === 'instance'
        ? { ...keys, id: idOf(subject), org: subject.org, app: subject.app }
        : { ...keys, id: idOf(subject), resourceId: subject.resourceId };
}

export interface FirstSeenFacts {
    firstSeenAt: Date;
    firstSeenVia: LedgerVia;
    firstEventId?: string;
}

export function firstSeenFacts(via: LedgerVia, eventId?: string): FirstSeenFacts {
    return { firstSeenAt: new Date(), firstSeenVia: via, firstEventId: eventId };
}

export function storedFacts(facts: Parameters<LedgerWriter['stored']>[1]): Record<string, unknown> {
    return { storedAt: facts.storedAt ?? new Date(), elements: facts.elements, bytes: facts.bytes };
}

export function confirmedFacts(): Record<string, unknown> {
    return { confirmed: true, confirmedAt: new Date() };
}

/** An instance is "not handed off" from its first sight on, so that a table query can find it (a missing property cannot be filtered). */
function notHandedOffYet(subject: LedgerSubject, handedOff: boolean): Record<string, unknown> {
    return subject.kind === 'instance' ? { handedOff } : {};
}

export function handedOffFacts(version: string | undefined): Record<string, unknown> {
    return { handedOff: true, handedOffAt: new Date(), ...(version ? { handedOffVersion: version } : {}) };
}

export function handledFacts(eventIds: readonly string[]): Record<string, unknown> {
    return { handledEventIds: eventIds.slice(-maxHandledEventIds).join(' ') };
}

export function notEndedFacts({ task, eventId }: NotEndedFacts): Record<string, unknown> {
    return { notEndedAt: new Date(), notEndedTask: task, notEndedEventId: eventId };
}

function failureFacts({ step, error }: FailureFact): Record<string, unknown> {
    return {
        lastFailureAt: new Date(),
        lastFailureStep: step,
        lastFailureError: redactPersonalData(error).slice(0, maxErrorChars),
    };
}

function entryOf(row: TableEntityResult<Row>): LedgerEntry {
    const text = (name: string) => (typeof row[name] === 'string' ? row[name] : undefined);
    const date = (name: string) => (row[name] instanceof Date ? row[name] : undefined);
    const number = (name: string) => (typeof row[name] === 'number' ? row[name] : undefined);
    return {
        kind: text('kind') as LedgerKind,
        id: text('id') ?? row.rowKey,
        org: text('org'),
        app: text('app'),
        resourceId: text('resourceId'),
        firstSeenAt: date('firstSeenAt'),
        firstSeenVia: text('firstSeenVia') as LedgerVia | undefined,
        firstEventId: text('firstEventId'),
        storedAt: date('storedAt'),
        elements: number('elements'),
        bytes: number('bytes'),
        confirmed: row.confirmed === true,
        confirmedAt: date('confirmedAt'),
        handedOffAt: date('handedOffAt'),
        lastFailureAt: date('lastFailureAt'),
        lastFailureStep: text('lastFailureStep'),
        lastFailureError: text('lastFailureError'),
        poisonedAt: date('poisonedAt'),
        neverConfirmedAt: date('neverConfirmedAt'),
        handedOff: typeof row.handedOff === 'boolean' ? row.handedOff : undefined,
        handedOffVersion: text('handedOffVersion'),
        handledEventIds: (text('handledEventIds') ?? '').split(' ').filter(Boolean),
        notEndedAt: date('notEndedAt'),
        notEndedTask: text('notEndedTask'),
        notEndedEventId: text('notEndedEventId'),
        goneAt: date('goneAt'),
        refusedAt: date('refusedAt'),
        refusedReason: text('refusedReason'),
        ...(row.kind === 'sentFile' ? { sent: sentFactsOf(row) } : {}),
        reconcileQueuedAt: date('reconcileQueuedAt'),
        scanPendingSince: date('scanPendingSince'),
    };
}

export function statusOf(error: unknown): number | undefined {
    return error instanceof RestError ? error.statusCode : undefined;
}

const ledgers = new WeakMap<Storage, Ledger>();

/** The ledger on this storage, one per process (it holds the table client). */
export function ledgerOf(storage: Storage): Ledger {
    let ledger = ledgers.get(storage);
    if (!ledger) {
        ledger = new Ledger(storage.table(tables.ledger));
        ledgers.set(storage, ledger);
    }
    return ledger;
}
