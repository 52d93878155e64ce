/**
 * Alerts an agency can route (issue 20 item 6): every rule also notifies an existing action group
 * when actionGroupId is given, and the certificate, hand-off and host start-up rules read the lines
 * the app and the host really write (support/alerts.ts checks the queries against them).
 */
import {
    alertRules,
    alertsFile,
    checkAlertQueries,
    checkAlertWiring,
    parsedFields,
    stepFilters,
} from './support/alerts';
import { loadInfra, replaceOnce } from './support/invariants';
import { loggedSteps } from './support/loggedSteps';

const rule = async (name: string) => alertRules(await loadInfra()).find((candidate) => candidate.name === name)!;

describe('alert routing', () => {
    it("notifies the deployment's action group and, when given, the agency's own", async () => {
        expect(checkAlertWiring(await loadInfra())).toEqual([]);
        const onlyOurs = await loadInfra({ [alertsFile]: replaceOnce(/empty\(actionGroupId\)/, 'true') });
        expect(checkAlertWiring(onlyOurs)).toEqual([
            `${alertsFile}: rules must notify actionGroup.id, and actionGroupId when it is given`,
        ]);
    });
});

describe('the certificate-expiring rule', () => {
    it('reads the signing-key line the token provider writes when it loads a key, below 30 days by default', async () => {
        const certificate = await rule('certificate-expiring');
        expect(stepFilters(certificate.query)).toEqual(['signing-key']);
        expect(certificate.query).toContain('certificateExpiresInDays < 30');
        expect(parsedFields(certificate.query)).toEqual([
            'step',
            'kid',
            'certificateExpiresAt',
            'certificateExpiresInDays',
        ]);
        expect(loggedSteps().get('signing-key')?.files).toEqual(new Set(['shared/altinn/tokens.ts']));
    });

    it('fails when the field it compares is not what the line carries', async () => {
        const infra = await loadInfra({
            [alertsFile]: (source) => source.replaceAll('certificateExpiresInDays', 'daysLeft'),
        });
        // Once where it is parsed, once where it is compared.
        expect(new Set(checkAlertQueries(infra))).toEqual(
            new Set(['alert certificate-expiring reads field daysLeft, which no signing-key line carries']),
        );
    });
});

describe('the handoff-waiting rule', () => {
    it('reads the HandoffWatch line, over 24 hours by default', async () => {
        const waiting = await rule('handoff-waiting');
        expect(stepFilters(waiting.query)).toEqual(['handoff-waiting']);
        expect(waiting.query).toContain('oldestHours > 24');
        expect(loggedSteps().get('handoff-waiting')?.fields).toEqual(new Set(['queue', 'messages', 'oldestHours']));
    });
});

describe('the host-start-failed rule', () => {
    it("matches the Functions host's start-up error, in traces and in exceptions", async () => {
        expect((await rule('host-start-failed')).query).toMatch(/^union traces, exceptions\n/);
        expect(checkAlertQueries(await loadInfra())).toEqual([]);
    });

    it("fails when its text no longer starts the host's line, or it reads traces only", async () => {
        const reworded = await loadInfra({
            [alertsFile]: replaceOnce('startswith "A host error has occurred', 'startswith "The host failed'),
        });
        expect(checkAlertQueries(reworded)).toEqual([
            expect.stringMatching(
                /^alert host-start-failed: the host's line "A host error has occurred during startup operation '[0-9a-f-]+'\." does not start with "The host failed during startup operation"$/,
            ),
        ]);
        const tracesOnly = await loadInfra({
            [alertsFile]: replaceOnce("query: 'union traces, exceptions\\n", "query: 'traces\\n"),
        });
        expect(checkAlertQueries(tracesOnly)).toEqual([
            'alert host-start-failed: the host logs this error with its exception, so the query must read exceptions too',
        ]);
    });
});
