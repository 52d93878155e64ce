import { checkSettings } from '../../../shared/check/settingsCheck';
import { loadConfig } from '../../../shared/config';
import { recoveryStatus, renderStatusHtml, renderStatusText, type StatusReport } from '../../../shared/status';
import { statusReport } from '../../support/statusReport';

/*
 * Recovery of lost webhook pushes (issue 20 item 1): one list of apps (CatchUpApps), caught up and
 * reconciled unless CatchUpEnabled or ReconcileEnabled turns it off; the status warns while it is not.
 */

const base = {
    AltinnPlatformBaseUrl: 'https://platform.tt02.altinn.no',
    AltinnAppsBaseUrl: 'https://ttd.apps.tt02.altinn.no',
    MaskinportenBaseUrl: 'https://test.maskinporten.no',
    MaskinportenClientId: 'a1b2c3',
    MaskinportenScopes: 'altinn:serviceowner/instances.read',
    MaskinportenKeyVaultUri: 'https://kv-aos.vault.azure.net/',
    MaskinportenSecretName: 'maskinporten-key',
};

const recoveryOf = (env: Record<string, string>) => recoveryStatus(loadConfig({ ...base, ...env }));

const report = (recovery: StatusReport['recovery']) => statusReport({ recovery, poisonQueues: [] });

describe('recovery', () => {
    it('is on for the named apps by default: caught up and reconciled, nothing to warn about', () => {
        const config = loadConfig({ ...base, CatchUpApps: 'ttd/a, ttd/b' });
        expect(config.recovery).toEqual({ catchUp: true, reconcile: true });
        expect(config.reconcileApps).toEqual(config.catchUpApps);
        expect(recoveryStatus(config)).toEqual({ catchUp: 'on', reconcile: 'on', partial: [], warnings: [] });
    });

    it('warns when no apps are named', () => {
        const status = recoveryOf({});
        expect(status).toMatchObject({ catchUp: 'no-apps', reconcile: 'no-apps' });
        expect(status.warnings).toEqual([
            expect.stringMatching(/^No apps are named \(CatchUpApps; with azd ALTINN_APPS\)/),
        ]);
    });

    it('warns for each part turned off explicitly, and only then', () => {
        expect(recoveryOf({ CatchUpApps: 'ttd/a', CatchUpEnabled: 'false' }).warnings).toEqual([
            expect.stringMatching(/^Catch-up is turned off \(CatchUpEnabled=false\)/),
        ]);
        expect(recoveryOf({ CatchUpApps: 'ttd/a', ReconcileEnabled: 'false' }).warnings).toEqual([
            expect.stringMatching(/^Reconciliation is turned off \(ReconcileEnabled=false\)/),
        ]);
        expect(recoveryOf({ CatchUpApps: 'ttd/a', CatchUpEnabled: 'true', ReconcileEnabled: 'true' }).warnings).toEqual(
            [],
        );
    });

    it('names the apps only one of the two covers when ReconcileApps names others', () => {
        const status = recoveryOf({ CatchUpApps: 'ttd/a,ttd/b', ReconcileApps: 'ttd/b,ttd/c' });
        expect(status.partial).toEqual(['ttd/a', 'ttd/c']);
        expect(status.warnings).toEqual([expect.stringContaining('recovery is incomplete for: ttd/a, ttd/c')]);
    });

    it('refuses a switch that is not a boolean, naming the setting', () => {
        expect(() => loadConfig({ ...base, CatchUpEnabled: 'nope' })).toThrow(
            'Setting CatchUpEnabled: must be true or false, not "nope"',
        );
    });

    it('puts the warnings at the top of the status page and in aos status', () => {
        const off = report(recoveryOf({ CatchUpApps: 'ttd/a', ReconcileEnabled: 'false' }));
        expect(off.attention).toEqual([expect.stringMatching(/^Reconciliation is turned off/)]);
        expect(renderStatusHtml(off)).toMatch(/<h2>Needs attention<\/h2><ul>\n<li>Reconciliation is turned off/);
        expect(renderStatusText(off).join('\n')).toContain('Reconciliation is turned off');
        // Unknown settings (aos status --account without them): no recovery part, no warning.
        expect(report(undefined).attention).toEqual([]);
    });

    it('is what the deployment check warns about too, also when a part is turned off', async () => {
        const { results } = await checkSettings({ ...base, CatchUpApps: 'ttd/a', CatchUpEnabled: 'false' });
        expect(results.find((result) => result.name === 'Recovery (catch-up and reconciliation)')).toMatchObject({
            status: 'warning',
            detail: expect.stringMatching(/^Catch-up is turned off \(CatchUpEnabled=false\)/) as unknown,
        });
    });
});
