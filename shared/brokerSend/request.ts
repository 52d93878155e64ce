/**
 * A send request: one JSON message on queue broker-send naming a file the owner put in container
 * broker-outbound, and where it goes (docs/broker-send.schema.json). Checked here with Broker's own
 * rules for initialize (altinn-broker API/Models/FileTransferInitializeExt.cs and its validation
 * attributes), so that a request Broker would refuse is refused before anything is claimed or sent,
 * with the field named.
 */
import { organisationNumberOf } from '../altinn/broker';

export interface SendRequest {
    /** The file's blob name in container broker-outbound. */
    blob: string;
    /** The Broker resource to send on (without urn:altinn:resource:). */
    resourceId: string;
    /** Organisation numbers as Broker writes them: "0192:{9 digits}". */
    recipients: string[];
    /** The file name the recipients see; default: the blob name's last segment. */
    fileName: string;
    /** The case system's own reference; default: the blob name. */
    sendersFileTransferReference: string;
    propertyList: Record<string, string>;
    /** MD5 of the file, lowercase hex, given to Broker at initialize so that it checks the upload. */
    checksum?: string;
    /** Broker skips its malware scan (the resource needs Altinn's approval in production). */
    disableVirusScan?: boolean;
}

export class InvalidSendRequestError extends Error {
    constructor(readonly detail: string) {
        super(`Invalid send request: ${detail}`);
        this.name = 'InvalidSendRequestError';
    }
}

const fields = new Set([
    'blob',
    'resourceId',
    'recipients',
    'fileName',
    'sendersFileTransferReference',
    'propertyList',
    'checksum',
    'disableVirusScan',
]);

/** A Norwegian organisation number in any of the forms Broker takes, as "0192:{9 digits}". */
export function brokerParty(text: string): string | undefined {
    const digits = organisationNumberOf(text);
    return digits ? `0192:${digits}` : undefined;
}

function textField(value: Record<string, unknown>, name: string, max: number, required: boolean): string | undefined {
    const field = value[name];
    if (field === undefined && !required) return undefined;
    if (typeof field !== 'string' || field.length < 1 || field.length > max) {
        throw new InvalidSendRequestError(`${name} must be a string of 1 to ${max} characters`);
    }
    return field;
}

function propertyListOf(value: unknown): Record<string, string> {
    if (value === undefined) return {};
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
        throw new InvalidSendRequestError('propertyList must be an object of strings');
    }
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length > 10) throw new InvalidSendRequestError('propertyList may hold at most 10 properties');
    for (const [key, text] of entries) {
        if (typeof text !== 'string') throw new InvalidSendRequestError(`propertyList.${key} must be a string`);
        if (key.length > 50) throw new InvalidSendRequestError(`propertyList key ${key} is longer than 50 characters`);
        if (text.length > 3000) throw new InvalidSendRequestError(`propertyList.${key} is longer than 3000 characters`);
    }
    return Object.fromEntries(entries) as Record<string, string>;
}

/** Parses a queue message (the JSON object, or its text) into a send request, or throws InvalidSendRequestError. */
export function parseSendRequest(message: unknown): SendRequest {
    let value: unknown = message;
    if (typeof message === 'string' || Buffer.isBuffer(message)) {
        try {
            value = JSON.parse(message.toString());
        } catch {
            throw new InvalidSendRequestError('the message is not JSON');
        }
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
        throw new InvalidSendRequestError('the message is not a JSON object');
    }
    const request = value as Record<string, unknown>;
    const unknown = Object.keys(request).filter((name) => !fields.has(name));
    if (unknown.length > 0) throw new InvalidSendRequestError(`unknown field(s) ${unknown.join(', ')}`);

    const blob = textField(request, 'blob', 1024, true)!;
    const resourceId = textField(request, 'resourceId', 255, true)!.replace(/^urn:altinn:resource:/, '');
    if (!/^[^:]{1,255}$/.test(resourceId)) throw new InvalidSendRequestError('resourceId is not a resource id');
    if (!Array.isArray(request.recipients) || request.recipients.length === 0) {
        throw new InvalidSendRequestError('recipients must list at least one organisation number');
    }
    const recipients = request.recipients.map((recipient) => {
        const party = typeof recipient === 'string' ? brokerParty(recipient) : undefined;
        if (!party) {
            throw new InvalidSendRequestError(
                `recipient ${JSON.stringify(recipient)} is not an organisation number (9 digits, optionally 0192: or urn:altinn:organization:identifier-no:)`,
            );
        }
        return party;
    });
    if (new Set(recipients).size !== recipients.length) throw new InvalidSendRequestError('recipients repeat one');
    const fileName = textField(request, 'fileName', 255, false) ?? blob.split('/').pop()!;
    if (fileName.length < 1 || fileName.length > 255) {
        throw new InvalidSendRequestError('fileName must be 1 to 255 characters (the blob name ends with /)');
    }
    const checksum = textField(request, 'checksum', 32, false);
    if (checksum !== undefined && !/^[0-9a-fA-F]{32}$/.test(checksum)) {
        throw new InvalidSendRequestError('checksum must be the file’s MD5 as 32 hexadecimal digits');
    }
    if (request.disableVirusScan !== undefined && typeof request.disableVirusScan !== 'boolean') {
        throw new InvalidSendRequestError('disableVirusScan must be true or false');
    }
    return {
        blob,
        resourceId,
        recipients,
        fileName,
        sendersFileTransferReference: textField(request, 'sendersFileTransferReference', 4096, false) ?? blob,
        propertyList: propertyListOf(request.propertyList),
        ...(checksum ? { checksum: checksum.toLowerCase() } : {}),
        ...(request.disableVirusScan !== undefined ? { disableVirusScan: request.disableVirusScan } : {}),
    };
}
