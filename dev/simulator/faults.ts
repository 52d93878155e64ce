import { randomUUID } from 'node:crypto';
import { type Fault, type FaultInput } from './types';

/** Endpoint names a fault can target (the same names key the request counters). */
export const ENDPOINT_NAMES = [
    'maskinporten.token',
    'maskinporten.metadata',
    'authentication.exchange',
    'apps.getInstance',
    'apps.getData',
    'apps.postData',
    'apps.getProcess',
    'apps.processNext',
    'apps.substatus',
    'apps.complete',
    'storage.getInstance',
    'storage.getData',
    'storage.queryInstances',
    'events.subscriptions',
    'events.query',
    'events.publish',
    'broker.list',
    'broker.initialize',
    'broker.upload',
    'broker.overview',
    'broker.details',
    'broker.download',
    'broker.confirm',
    'delivery',
] as const;

export class FaultInputError extends Error {}

function validate(input: FaultInput): void {
    if (!(ENDPOINT_NAMES as readonly string[]).includes(input.endpoint)) {
        throw new FaultInputError(`Unknown endpoint '${input.endpoint}'; one of ${ENDPOINT_NAMES.join(', ')}`);
    }
    const positive = (name: keyof FaultInput, min: number): void => {
        const value = input[name];
        if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value < min)) {
            throw new FaultInputError(`${name} must be a number >= ${min}`);
        }
    };
    positive('latencyMs', 0);
    positive('truncateAfterBytes', 0);
    positive('times', 1);
    positive('retryAfterSeconds', 0);
    if (input.status !== undefined && (!Number.isInteger(input.status) || input.status < 100 || input.status > 599)) {
        throw new FaultInputError('status must be an HTTP status code');
    }
    if (input.probability !== undefined && !(input.probability >= 0 && input.probability <= 1)) {
        throw new FaultInputError('probability must be between 0 and 1');
    }
    if (
        input.status === undefined &&
        !input.reset &&
        input.latencyMs === undefined &&
        input.truncateAfterBytes === undefined
    ) {
        throw new FaultInputError('A fault needs at least one of status, reset, latencyMs, truncateAfterBytes');
    }
}

/** Injected failures, consumed in the order they were added; the first live match wins. */
export class Faults {
    private faults: Fault[] = [];

    add(input: FaultInput): Fault {
        validate(input);
        const fault: Fault = { ...input, id: randomUUID(), hits: 0 };
        this.faults.push(fault);
        return fault;
    }

    list(): Fault[] {
        return this.faults.map((f) => ({ ...f }));
    }

    remove(id: string): boolean {
        const before = this.faults.length;
        this.faults = this.faults.filter((f) => f.id !== id);
        return this.faults.length !== before;
    }

    clear(): void {
        this.faults = [];
    }

    /** The fault that affects this request, counting it as a hit; undefined when none does. */
    take(endpoint: string, target: string, eventType?: string): Fault | undefined {
        for (const fault of this.faults) {
            if (fault.endpoint !== endpoint || (fault.times !== undefined && fault.hits >= fault.times)) {
                continue;
            }
            if (fault.pathContains !== undefined && !target.includes(fault.pathContains)) {
                continue;
            }
            if (fault.eventType !== undefined && fault.eventType !== eventType) {
                continue;
            }
            if (fault.probability !== undefined && Math.random() >= fault.probability) {
                continue;
            }
            fault.hits += 1;
            return { ...fault };
        }
        return undefined;
    }
}
