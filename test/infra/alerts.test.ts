/**
 * The alert rules (infra/app/alerts.bicep) match the log lines the code really writes, are wired to
 * Application Insights and the action group, and the checks fail on a rule that drifted from the code.
 */
import { subscriptionCheckFailedStep } from '../../shared/subscriptions/selfCheck';
import {
    alertRules,
    alertsBicep,
    alertsFile,
    checkAlertQueries,
    checkAlertWiring,
    parsedFields,
    pinnedSteps,
    everyPoisonQueue,
    stepFilters,
} from './support/alerts';
import { arrayItems, objectProperties, stringLiteral } from './support/bicepTree';
import { files, loadInfra, replaceOnce, type Infra } from './support/invariants';
import { loggedSteps } from './support/loggedSteps';
import { checkAlertsNotSampled } from './support/sampling';

/** Each rule's evaluation frequency and window, as the template writes them. */
function schedules(infra: Infra): { name: string; frequency?: string; window?: string }[] {
    return arrayItems(alertsBicep(infra).variable('rules')).map((item) => {
        const props = objectProperties(item);
        return {
            name: stringLiteral(props.get('name')) ?? '',
            frequency: stringLiteral(props.get('evaluationFrequency')),
            window: stringLiteral(props.get('windowSize')),
        };
    });
}

describe('alert rules', () => {
    it('cover poison messages, unconfirmed instances, subscriptions, failed runs, Broker files never confirmed, infected elements, processes not ended, instances not handed off, Broker resources refused and messages the code refused into poison', async () => {
        const rules = alertRules(await loadInfra());
        expect(rules.map((rule) => rule.name)).toEqual([
            'poison-message',
            'unconfirmed-instance',
            'subscription-problem',
            'run-failed',
            'broker-never-confirmed',
            'broker-upload-failed',
            'broker-sent-unconfirmed',
            'certificate-expiring',
            'handoff-waiting',
            'host-start-failed',
            'infected',
            'process-not-ended',
            'not-handed-off',
            'broker-no-access',
            'message-refused',
        ]);
        const steps = rules.flatMap((rule) => stepFilters(rule.query));
        expect(steps).toEqual(
            expect.arrayContaining([
                'reconcile-run',
                'subscription-refused',
                subscriptionCheckFailedStep,
                'catch-up',
                'catchup-failed',
                'reconcile-failed',
                'broker-never-confirmed',
                'broker-upload-failed',
                'broker-sent-run',
                'infected',
                'process-not-ended',
                'confirmed',
                'handed-off',
                'catchup-no-access',
                'refused',
                'reconcile-truncated',
            ]),
        );
    });

    it('read the code: a process not ended is logged with the instance, the event type and where the process stood', () => {
        const notEnded = loggedSteps().get('process-not-ended');
        // At error after the wait for the process to end, as a warning after feedback; the rule reads both.
        expect(notEnded?.levels).toEqual(new Set(['error', 'warn']));
        expect([...(notEnded?.fields ?? [])]).toEqual(
            expect.arrayContaining(['instanceId', 'eventType', 'task', 'after']),
        );
    });

    it('alert on an instance confirmed alertNotHandedOffHours (default 1) ago without a hand-off, from the lines of both, keyed by instance', async () => {
        const rule = alertRules(await loadInfra()).find((candidate) => candidate.name === 'not-handed-off')!;
        expect(rule.query).toContain('confirmedAt between ((ago(1h) - 1h) .. ago(1h)) and isnull(handedOffAt)');
        for (const step of ['confirmed', 'handed-off', 'handoff-skipped']) {
            expect(loggedSteps().get(step)?.fields.has('instanceId')).toBe(true);
        }
        const renamed = await loadInfra({
            [alertsFile]: replaceOnce('step in ("confirmed", "handed-off"', 'step in ("confirmed", "handed-over"'),
        });
        expect(checkAlertQueries(renamed)).toContain(
            'alert not-handed-off filters step handed-over, which no code in functions/ or shared/ logs',
        );
    });

    it('read the code: a message refused into poison (an instance stage or BrokerProcessor) and a refused Broker resource are errors', () => {
        const steps = loggedSteps();
        for (const step of ['catchup-no-access', 'refused']) {
            expect({ step, levels: steps.get(step)?.levels }).toEqual({ step, levels: new Set(['error']) });
        }
        // One line for both: refuseIntoPoison (shared/refusal.ts) names the poison queue and the reason.
        expect([...(steps.get('refused')?.fields ?? [])]).toEqual(expect.arrayContaining(['reason', 'queue']));
        expect(steps.get('refused')?.files).toEqual(new Set([expect.stringMatching(/shared\/refusal\.ts$/)]));
        expect([...(steps.get('catchup-no-access')?.fields ?? [])]).toEqual(
            expect.arrayContaining(['resourceId', 'setting']),
        );
    });

    it('count only rows that Application Insights never samples away (host.json excludes their type from sampling)', async () => {
        expect(checkAlertsNotSampled(await loadInfra())).toEqual([]);
        const sampled = await loadInfra({ [files.hostJson]: replaceOnce('"Request;Trace;Exception"', '"Request"') });
        const problems = checkAlertsNotSampled(sampled);
        // Every rule reads traces; host-start-failed reads exceptions too.
        expect(problems).toHaveLength(alertRules(sampled).length + 1);
        expect(problems[0]).toBe(
            'alert poison-message counts traces rows, which host.json samples (samplingSettings.excludedTypes does not name Trace)',
        );
        expect(problems).toContain(
            'alert host-start-failed counts exceptions rows, which host.json samples (samplingSettings.excludedTypes does not name Exception)',
        );
        const off = await loadInfra({ [files.hostJson]: replaceOnce('"isEnabled": true', '"isEnabled": false') });
        expect(checkAlertsNotSampled(off)).toEqual([]);
    });

    it('evaluate each window once: window equals frequency, so one line raises one alert', async () => {
        // not-handed-off reads a longer window on purpose: its query picks the confirmations that turned
        // alertNotHandedOffHours old in the last hour (one band per evaluation) and looks for their hand-off since.
        const mismatched = schedules(await loadInfra()).filter(
            (rule) => rule.name !== 'not-handed-off' && (!rule.frequency || rule.frequency !== rule.window),
        );
        expect(mismatched).toEqual([]);
        expect(schedules(await loadInfra()).find((rule) => rule.name === 'unconfirmed-instance')).toEqual({
            name: 'unconfirmed-instance',
            frequency: 'PT1H',
            window: 'PT1H',
        });
    });

    it('query only steps and fields the code logs', async () => {
        expect(checkAlertQueries(await loadInfra())).toEqual([]);
    });

    it('read the code: the subscription and catch-up steps they filter are logged with the fields they parse', () => {
        const steps = loggedSteps();
        expect(steps.get('subscription-refused')?.levels).toEqual(new Set(['warn']));
        expect(steps.get(subscriptionCheckFailedStep)?.fields).toEqual(
            new Set(['name', 'subscriptionId', 'reason', 'detail']),
        );
        // catch-up logs its fields through a spread of a local object; stopped is among them.
        expect([...(steps.get('catch-up')?.fields ?? [])]).toEqual(expect.arrayContaining(['org', 'app', 'stopped']));
    });

    it('read the code: an infected element is logged at error, naming the element and the quarantine container', () => {
        const infected = loggedSteps().get('infected');
        expect(infected?.levels).toEqual(new Set(['error']));
        expect([...(infected?.fields ?? [])]).toEqual(expect.arrayContaining(['dataElementId', 'container']));
    });

    it('read the code: a failed sent file is logged at error, naming the blob, the transfer and the reason', () => {
        const failed = loggedSteps().get('broker-upload-failed');
        expect(failed?.levels).toEqual(new Set(['error']));
        expect([...(failed?.fields ?? [])]).toEqual(
            expect.arrayContaining(['blob', 'resourceId', 'fileTransferId', 'reason']),
        );
    });

    it('alert on sent files not confirmed by every recipient within alertUnconfirmedSentHours (default 72), from the catch-up line', async () => {
        const rule = alertRules(await loadInfra()).find((candidate) => candidate.name === 'broker-sent-unconfirmed')!;
        expect(rule.query).toContain('oldestUnconfirmedHours > 72');
        expect(rule.query).toContain('unconfirmed > 0');
        expect([...(loggedSteps().get('broker-sent-run')?.fields ?? [])]).toEqual(
            expect.arrayContaining(['resourceId', 'unconfirmed', 'oldestUnconfirmedHours']),
        );
    });

    it('report an infected rule that reads a field the line does not carry', async () => {
        const infra = await loadInfra({
            [alertsFile]: replaceOnce('(step:string, dataElementId:string,', '(step:string, elementId:string,'),
        });
        expect(checkAlertQueries(infra)).toEqual([
            'alert infected reads field elementId, which no infected line carries',
        ]);
    });

    it('alert on unconfirmed instances older than alertUnconfirmedHours (default 24), from the reconciliation line', async () => {
        const rule = alertRules(await loadInfra()).find((candidate) => candidate.name === 'unconfirmed-instance')!;
        expect(rule.query).toContain('oldestUnconfirmedHours > 24');
        expect(parsedFields(rule.query)).toEqual(expect.arrayContaining(pinnedSteps['reconcile-run'].fields.slice(3)));
    });

    it('report a step the code does not log', async () => {
        const infra = await loadInfra({
            [alertsFile]: replaceOnce('step in ("subscription-refused", ', 'step in ("subscription-rejected", '),
        });
        expect(checkAlertQueries(infra)).toEqual([
            'alert subscription-problem filters step subscription-rejected, which no code in functions/ or shared/ logs',
            // error was the refused line's field; the check-failed line has detail instead.
            'alert subscription-problem reads field error, which no subscription-rejected/subscription-check-failed line carries',
        ]);
    });

    it('report a field the lines do not carry, and a prefix they do not start with', async () => {
        const field = await loadInfra({
            [alertsFile]: replaceOnce('(step:string, fileTransferId:string,', '(step:string, fileId:string,'),
        });
        expect(checkAlertQueries(field)).toEqual([
            'alert broker-never-confirmed reads field fileId, which no broker-never-confirmed line carries',
        ]);
        const prefix = await loadInfra({
            [alertsFile]: replaceOnce('startswith "step=reconcile-run "', 'startswith "step=reconcile "'),
        });
        expect(checkAlertQueries(prefix)).toEqual([
            'alert unconfirmed-instance: a reconcile-run line does not start with "step=reconcile "',
        ]);
    });

    it("read the host's line for every poison queue the app provisions, the substatus and hand-off ones included", () => {
        expect(everyPoisonQueue).toEqual(
            expect.arrayContaining(['events-substatus-poison', 'instances-received-poison', 'broker-inbound-poison']),
        );
    });

    it("report a poison rule that no longer matches the host's line", async () => {
        const infra = await loadInfra({
            [alertsFile]: replaceOnce('"Moving message to queue \\\'"', '"Moved message to queue \\\'"'),
        });
        const problems = checkAlertQueries(infra);
        expect(problems).toHaveLength(everyPoisonQueue.length);
        everyPoisonQueue.forEach((queue, index) => {
            expect(problems[index]).toMatch(
                /^alert poison-message: parsing "Message has reached MaxDequeueCount of \d+\./,
            );
            expect(problems[index]).toContain(`does not give the poison queue ${queue}`);
        });
    });

    it('are scoped to Application Insights and notify the action group, whose email is optional', async () => {
        expect(checkAlertWiring(await loadInfra())).toEqual([]);
        const alwaysEmail = await loadInfra({
            [alertsFile]: replaceOnce(/emailReceivers: empty\(alertEmail\)\s*\?\s*\[\]\s*:/, 'emailReceivers:'),
        });
        expect(checkAlertWiring(alwaysEmail)).toEqual([
            `${alertsFile}: the action group must have no email receiver when alertEmail is empty`,
        ]);
    });
});
