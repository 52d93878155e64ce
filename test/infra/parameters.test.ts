/**
 * Every parameter of main.bicep is mapped in main.parameters.json, with its default where it has a
 * literal one (issue 20 item 1), and docs/deploy.md names every variable: support/parameters.ts
 * says how azd reads the file, with its sources.
 */
import { files, loadInfra, replaceOnce } from './support/invariants';
import {
    checkParameterMappings,
    checkVariablesDocumented,
    parameterMappings,
    parseMapping,
} from './support/parameters';

describe('main.parameters.json', () => {
    it('maps every parameter to an azd variable, with the Bicep default where it is a literal', async () => {
        const infra = await loadInfra();
        expect(checkParameterMappings(infra)).toEqual([]);
        const mappings = parameterMappings(infra);
        expect(mappings.size).toBe(infra.main.params().size);
        // The anchor template's name for the network switch, and the one list of apps.
        expect(mappings.get('vnetEnabled')).toEqual({ variable: 'VNET_ENABLED', fallback: 'false' });
        expect(mappings.get('catchUpApps')).toEqual({ variable: 'ALTINN_APPS', fallback: undefined });
        expect(mappings.get('catchUpEnabled')).toEqual({ variable: 'CATCH_UP_ENABLED', fallback: 'true' });
        expect(mappings.get('catchUpSchedule')?.fallback).toBe('0 */10 * * * *');
    });

    it('reads ${VAR} and ${VAR=default} as envsubst does, and nothing else', () => {
        expect(parseMapping('${ALERT_EMAIL}')).toEqual({ variable: 'ALERT_EMAIL', fallback: undefined });
        expect(parseMapping('${X=a b/c*}')).toEqual({ variable: 'X', fallback: 'a b/c*' });
        expect(parseMapping('literal')).toBeUndefined();
        expect(parseMapping('${lower}')).toBeUndefined();
    });

    it('reports a parameter that is not mapped, a default that drifted, and a variable read twice', async () => {
        const unmapped = await loadInfra({
            [files.parameters]: replaceOnce(
                /,\n\s+"storageDeleteLock": \{\n\s+"value": "\$\{STORAGE_DELETE_LOCK=false\}"\n\s+\}/,
                '',
            ),
        });
        expect(checkParameterMappings(unmapped)).toEqual([
            'infra/main.parameters.json: param storageDeleteLock is not mapped, so azd env set cannot reach it',
        ]);
        const drifted = await loadInfra({
            [files.main]: replaceOnce('param downloadConcurrency int = 16', 'param downloadConcurrency int = 8'),
        });
        expect(checkParameterMappings(drifted)).toEqual([
            'infra/main.parameters.json: downloadConcurrency must be ${DOWNLOAD_CONCURRENCY=8} (its default in infra/main.bicep), not ${DOWNLOAD_CONCURRENCY=16}',
        ]);
        const twice = await loadInfra({
            [files.parameters]: replaceOnce('${RECONCILE_APPS}', '${ALTINN_APPS}'),
        });
        expect(checkParameterMappings(twice)).toEqual([
            'infra/main.parameters.json: reconcileApps and catchUpApps both read ALTINN_APPS',
        ]);
    });

    it('reports a default on a mapping whose parameter computes its own', async () => {
        const infra = await loadInfra({
            [files.parameters]: replaceOnce(
                '${ALTINN_APPS_BASE_URL}',
                '${ALTINN_APPS_BASE_URL=https://ttd.apps.tt02.altinn.no}',
            ),
        });
        expect(checkParameterMappings(infra)).toEqual([
            'infra/main.parameters.json: altinnAppsBaseUrl has a computed or empty default in infra/main.bicep, so its mapping must be ${ALTINN_APPS_BASE_URL} without one',
        ]);
    });

    it('has every variable named in docs/deploy.md', async () => {
        expect(checkVariablesDocumented(await loadInfra())).toEqual([]);
        const infra = await loadInfra({ [files.deployDoc]: (source) => source.replaceAll('STORAGE_DELETE_LOCK', 'X') });
        expect(checkVariablesDocumented(infra)).toEqual([
            'docs/deploy.md does not name the azd variable STORAGE_DELETE_LOCK',
        ]);
    });
});
