import { randomUUID } from 'node:crypto';
import { request as httpRequest, type ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { type SimCore } from './core';
import { type CloudEvent, type DeliveryAttempt, type DeliveryRecord, type Subscription } from './types';

/*
 * Outbound webhooks as Altinn Events sends them (altinn-api.md §1.6-1.7): the validation event
 * after every subscription create, pushes of matching events to validated subscriptions only,
 * 2xx = delivered, and the documented retry schedules (multiplied by options.timeScale).
 */

/** ValidationQueuePolicy: cooldown 1 s, 5 s, 10 s, then scheduled 30 s, 60 s, 120 s x3, then the error queue. */
export const VALIDATION_RETRY_SECONDS = [1, 5, 10, 30, 60, 120, 120, 120];
/** Documented push retries: 10 s, 30 s, 1 m, 5 m, 10 m, 30 m, 1 h, 3 h, 6 h, 12 h, 12 h; 12 attempts, then dead letter. */
export const OUTBOUND_RETRY_SECONDS = [10, 30, 60, 300, 600, 1800, 3600, 10800, 21600, 43200, 43200];

export const VALIDATION_EVENT_TYPE = 'platform.events.validatesubscription';

interface Outcome {
    status?: number;
    error?: string;
    faulted?: boolean;
}

/**
 * Whether an event reaches a subscription (Services/OutboundService.cs, getsubscriptions.sql): resource equal,
 * subject and type null or equal, and the source filter one of the source's path prefixes (the real service
 * matches sourcefilterhash against the hashes of those prefixes, then checks Uri.IsBaseOf).
 */
export function subscriptionMatches(sub: Subscription, event: CloudEvent): boolean {
    if (!sub.validated || sub.resourceFilter !== event.resource) {
        return false;
    }
    if (sub.subjectFilter !== undefined && sub.subjectFilter !== event.subject) {
        return false;
    }
    if (sub.typeFilter !== undefined && sub.typeFilter !== event.type) {
        return false;
    }
    if (sub.sourceFilter !== undefined) {
        const source = event.source;
        if (source !== sub.sourceFilter && !source.startsWith(`${sub.sourceFilter}/`)) {
            return false;
        }
    }
    return true;
}

export class EventDelivery {
    private readonly timers = new Set<NodeJS.Timeout>();
    private readonly inFlight = new Set<ClientRequest>();
    private stopped = false;

    constructor(private readonly core: SimCore) {}

    /** Sends the validation event for a (new or re-posted) subscription. */
    validate(sub: Subscription): void {
        const event: CloudEvent = {
            specversion: '1.0',
            id: randomUUID(),
            source: `${this.core.origins.platformUrl}/events/api/v1/subscriptions/${sub.id}`,
            type: VALIDATION_EVENT_TYPE,
        };
        this.start('validation', sub, event);
    }

    /** Pushes a newly registered event to every validated subscription it matches. */
    published(event: CloudEvent): void {
        for (const sub of this.core.state.subscriptions.values()) {
            if (subscriptionMatches(sub, event)) {
                this.start('event', sub, event);
            }
        }
    }

    /** Cancels pending retries of a deleted subscription. */
    cancel(subscriptionId: number): void {
        for (const record of this.core.state.deliveries.values()) {
            if (record.subscriptionId === subscriptionId && record.state === 'pending') {
                record.state = 'cancelled';
                delete record.nextAttemptAt;
            }
        }
    }

    stop(): void {
        this.stopped = true;
        for (const timer of this.timers) {
            clearTimeout(timer);
        }
        this.timers.clear();
        for (const req of this.inFlight) {
            req.destroy();
        }
        this.inFlight.clear();
    }

    /** Forget timers of a reset without stopping the machinery. */
    clear(): void {
        for (const timer of this.timers) {
            clearTimeout(timer);
        }
        this.timers.clear();
        for (const req of this.inFlight) {
            req.destroy();
        }
        this.inFlight.clear();
    }

    private start(kind: DeliveryRecord['kind'], sub: Subscription, event: CloudEvent): void {
        const record: DeliveryRecord = {
            id: randomUUID(),
            kind,
            subscriptionId: sub.id,
            eventId: event.id,
            eventType: event.type,
            endpoint: sub.endPoint,
            state: 'pending',
            attempts: [],
        };
        this.core.state.deliveries.set(record.id, record);
        void this.attempt(record, event);
    }

    private later(ms: number, fn: () => void): void {
        const timer = setTimeout(() => {
            this.timers.delete(timer);
            fn();
        }, ms);
        this.timers.add(timer);
    }

    private async attempt(record: DeliveryRecord, event: CloudEvent): Promise<void> {
        const sub = this.core.state.subscriptions.get(record.subscriptionId);
        if (this.stopped || record.state !== 'pending' || this.core.state.deliveries.get(record.id) !== record) {
            return;
        }
        if (!sub) {
            record.state = 'cancelled';
            return;
        }
        delete record.nextAttemptAt;
        const started = Date.now();
        const outcome = await this.post(record.endpoint, event);
        // A reset or a delete while the request was out: the record is no longer ours to update.
        if (this.stopped || record.state !== 'pending' || this.core.state.deliveries.get(record.id) !== record) {
            return;
        }
        const attempt: DeliveryAttempt = {
            attempt: record.attempts.length + 1,
            at: new Date(started).toISOString(),
            durationMs: Date.now() - started,
        };
        if (outcome.status !== undefined) {
            attempt.status = outcome.status;
        }
        if (outcome.error !== undefined) {
            attempt.error = outcome.error;
        }
        if (outcome.faulted) {
            attempt.faulted = true;
        }
        record.attempts.push(attempt);
        const ok = outcome.status !== undefined && outcome.status >= 200 && outcome.status < 300;
        this.core.log(
            `delivery ${record.kind} ${event.type} -> ${record.endpoint} attempt ${attempt.attempt}: ${outcome.status ?? outcome.error}`,
        );
        if (ok) {
            record.state = 'delivered';
            if (record.kind === 'validation') {
                sub.validated = true;
            }
            return;
        }
        const schedule = record.kind === 'validation' ? VALIDATION_RETRY_SECONDS : OUTBOUND_RETRY_SECONDS;
        const retryIndex = record.attempts.length - 1;
        if (retryIndex >= schedule.length) {
            record.state = record.kind === 'validation' ? 'failed' : 'deadLettered';
            return;
        }
        const delay = schedule[retryIndex] * 1000 * this.core.options.timeScale;
        record.nextAttemptAt = new Date(Date.now() + delay).toISOString();
        this.later(delay, () => void this.attempt(record, event));
    }

    private async post(endpoint: string, event: CloudEvent): Promise<Outcome> {
        const fault = this.core.faults.take('delivery', endpoint, event.type);
        if (fault) {
            this.core.counters.fault('delivery');
            if (fault.latencyMs) {
                await new Promise<void>((resolve) => this.later(fault.latencyMs ?? 0, resolve));
                if (this.stopped) {
                    return { error: 'stopped' };
                }
            }
            if (fault.reset) {
                return { error: 'connection reset (injected fault)', faulted: true };
            }
            if (fault.status !== undefined) {
                return { status: fault.status, faulted: true };
            }
        }
        const json = JSON.stringify(event);
        // WebhookService's special case for Slack incoming webhooks.
        const body = Buffer.from(endpoint.includes('hooks.slack.com') ? JSON.stringify({ text: json }) : json, 'utf8');
        const truncateAt = fault?.truncateAfterBytes;
        return new Promise<Outcome>((resolve) => {
            let url: URL;
            try {
                url = new URL(endpoint);
            } catch {
                resolve({ error: 'invalid endpoint' });
                return;
            }
            const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
            let settled = false;
            const finish = (outcome: Outcome): void => {
                if (!settled) {
                    settled = true;
                    this.inFlight.delete(req);
                    clearTimeout(timeout);
                    resolve(outcome);
                }
            };
            const req = send(url, {
                method: 'POST',
                agent: false,
                headers: {
                    'Content-Type': 'application/json; charset=utf-8',
                    'Content-Length': body.length,
                    Connection: 'close',
                },
            });
            this.inFlight.add(req);
            const timeout = setTimeout(() => {
                req.destroy(new Error(`timeout after ${this.core.options.deliveryTimeoutMs} ms`));
            }, this.core.options.deliveryTimeoutMs);
            req.on('response', (res) => {
                res.resume();
                res.on('end', () => finish({ status: res.statusCode ?? 0 }));
                res.on('error', () => finish({ status: res.statusCode ?? 0 }));
            });
            req.on('error', (err) => finish({ error: err.message, faulted: truncateAt !== undefined }));
            if (truncateAt !== undefined && truncateAt < body.length) {
                req.write(body.subarray(0, truncateAt), () => req.destroy(new Error('request cut (injected fault)')));
            } else {
                req.end(body);
            }
        });
    }
}
