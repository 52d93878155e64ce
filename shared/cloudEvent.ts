/**
 * CloudEvents as Altinn sends them (structured mode JSON, spec 1.0). Every attribute is kept
 * as received, including extensions such as resource, resourceinstance and alternativesubject.
 */
export interface CloudEvent {
    specversion: '1.0';
    id: string;
    source: string;
    type: string;
    subject?: string;
    time?: string;
    alternativesubject?: string;
    resource?: string;
    resourceinstance?: string;
    data?: unknown;
    [extension: string]: unknown;
}

export class InvalidCloudEventError extends Error {
    constructor(readonly detail: string) {
        super(detail);
        this.name = 'InvalidCloudEventError';
    }
}

const requiredStrings = ['specversion', 'id', 'source', 'type'] as const;

/**
 * How deep an event may nest (objects and arrays). Altinn's events nest two or three levels; a
 * deeper one is refused, because the pipeline re-serialises every event it hands on, and
 * JSON.stringify overflows the stack on some ten thousand levels.
 */
export const maxEventDepth = 64;
const optionalStrings = ['subject', 'time', 'alternativesubject', 'resource', 'resourceinstance'] as const;

/** Checks the attributes this system relies on; throws InvalidCloudEventError naming the first problem. */
export function parseCloudEvent(value: unknown): CloudEvent {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new InvalidCloudEventError('The body must be a JSON object (a structured-mode CloudEvent).');
    }
    const event = value as Record<string, unknown>;
    for (const name of requiredStrings) {
        const attribute = event[name];
        if (typeof attribute !== 'string' || attribute.trim() === '') {
            throw new InvalidCloudEventError(`The attribute "${name}" is required and must be a non-empty string.`);
        }
    }
    if (event.specversion !== '1.0') {
        throw new InvalidCloudEventError(
            `The attribute "specversion" must be "1.0", not "${String(event.specversion)}".`,
        );
    }
    for (const name of optionalStrings) {
        if (event[name] !== undefined && typeof event[name] !== 'string') {
            throw new InvalidCloudEventError(`The attribute "${name}" must be a string when present.`);
        }
    }
    if (nestsDeeperThan(event, maxEventDepth)) {
        throw new InvalidCloudEventError(`The event nests deeper than ${maxEventDepth} levels.`);
    }
    return event as CloudEvent;
}

/** Whether objects and arrays nest deeper than `limit` (iteratively, so any depth can be measured). */
function nestsDeeperThan(value: object, limit: number): boolean {
    const pending: [unknown, number][] = [[value, 1]];
    for (let next = pending.pop(); next; next = pending.pop()) {
        const [item, depth] = next;
        if (typeof item !== 'object' || item === null) continue;
        if (depth > limit) return true;
        for (const child of Object.values(item)) pending.push([child, depth + 1]);
    }
    return false;
}
