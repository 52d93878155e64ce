/**
 * The one accepted shape of an app event's `source`:
 * `{AltinnAppsBaseUrl}/{org}/{app}/instances/{partyId}/{instanceGuid}`, read from the raw string
 * (no URL normalisation, so `..`, `%2F`, `@host`, default ports and trailing slashes cannot
 * smuggle another target in). Anything else is refused before any request is made, because the
 * instance URL is where this system sends its Altinn token.
 */

export interface InstanceRef {
    org: string;
    app: string;
    partyId: string;
    /** Lower case, as in Altinn's blobStoragePath. */
    instanceGuid: string;
    /** "{partyId}/{instanceGuid}", Altinn's instance id. */
    instanceId: string;
    /** The instance on the apps origin, rebuilt from the parts above. */
    url: string;
}

/** Why a source was refused; permanent: the same event is refused again however often it is retried. */
export class SourceRefusedError extends Error {
    constructor(
        readonly source: string,
        readonly reason: string,
    ) {
        super(`Refused event source ${JSON.stringify(source.slice(0, 300))}: ${reason}`);
        this.name = 'SourceRefusedError';
    }
}

const ORG = /^[a-z0-9][a-z0-9-]*$/;
const APP = /^[A-Za-z0-9][A-Za-z0-9-]*$/;
const PARTY_ID = /^[1-9][0-9]{0,17}$/;
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Parses `source` against the configured apps base URL (as config gives it: no trailing slash). */
export function parseInstanceSource(source: unknown, appsBaseUrl: string): InstanceRef {
    if (typeof source !== 'string') throw new SourceRefusedError(String(source), 'it is not a string');
    const prefix = `${appsBaseUrl}/`;
    if (!source.startsWith(prefix)) {
        throw new SourceRefusedError(source, `it is not on the configured apps base URL ${appsBaseUrl}`);
    }
    if (/[?#]/.test(source)) throw new SourceRefusedError(source, 'it carries a query or fragment');
    const segments = source.slice(prefix.length).split('/');
    if (segments.length !== 5 || segments[2] !== 'instances') {
        throw new SourceRefusedError(source, 'its path is not /{org}/{app}/instances/{partyId}/{instanceGuid}');
    }
    const [org, app, , partyId, guid] = segments;
    if (!ORG.test(org)) throw new SourceRefusedError(source, `the org "${org}" is not an org code`);
    if (!APP.test(app)) throw new SourceRefusedError(source, `the app "${app}" is not an app name`);
    if (!PARTY_ID.test(partyId)) throw new SourceRefusedError(source, `the partyId "${partyId}" is not a number`);
    if (!GUID.test(guid)) throw new SourceRefusedError(source, `the instance id "${guid}" is not a GUID`);
    const instanceGuid = guid.toLowerCase();
    const instanceId = `${partyId}/${instanceGuid}`;
    return { org, app, partyId, instanceGuid, instanceId, url: `${prefix}${org}/${app}/instances/${instanceId}` };
}

export function isGuid(value: string): boolean {
    return GUID.test(value);
}
