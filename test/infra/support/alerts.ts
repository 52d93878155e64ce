/**
 * The alert rules of infra/app/alerts.bicep, and the check that each rule's KQL can match the log
 * lines the code writes: the steps it filters are steps the code logs (test/infra/support/
 * loggedSteps.ts), the fields it parses and compares are fields those lines carry, and its
 * `startswith` prefix is the prefix of such a line as shared/log.ts formats it.
 */
import { randomUUID } from 'node:crypto';
import { hostStartupErrorLine } from '../../../dev/host/log';
import { poisonMoveLine } from '../../../dev/host/queueListener';
import { maxDequeueCount } from '../../../shared/failures';
import { formatFields } from '../../../shared/log';
import { poisonQueueOf, queues } from '../../../shared/names';
import { arrayItems, objectProperties, property, stringLiteral, stringTemplate, type BicepFile } from './bicepTree';
import type { Infra } from './invariants';
import { loggedSteps, type Level } from './loggedSteps';

export const alertsFile = 'infra/app/alerts.bicep';

export interface AlertRule {
    name: string;
    /** The KQL with the template's interpolations (${kv}, and each param as its default) resolved. */
    query: string;
}

/**
 * Steps pinned by issue 11/12 for code on other branches (InstancesReconcile; BrokerProcessor's
 * never-confirmed event), with their pinned fields. Once the code logs the step, its real fields
 * are used and must include these.
 */
export const pinnedSteps: Record<string, { fields: string[]; level: Level }> = {
    'reconcile-run': { fields: ['app', 'found', 'queued', 'unconfirmed', 'oldestUnconfirmedHours'], level: 'info' },
    'reconcile-failed': { fields: ['app', 'error'], level: 'error' },
    'broker-never-confirmed': { fields: ['fileTransferId', 'resourceId'], level: 'error' },
};

/** The rules that match the Functions host's own lines, not a step of this code. */
export const hostLineRules = ['poison-message', 'host-start-failed'];

export function alertsBicep(infra: Infra): BicepFile {
    const file = infra.bicep.find((candidate) => candidate.file === alertsFile);
    if (!file) throw new Error(`${alertsFile} is missing`);
    return file;
}

export function alertRules(infra: Infra): AlertRule[] {
    const file = alertsBicep(infra);
    const kv = stringLiteral(file.variable('kv')) ?? '';
    const params = file.params();
    return arrayItems(file.variable('rules')).map((item) => {
        const props = objectProperties(item);
        const queryNode = props.get('query');
        const query = (queryNode ? stringTemplate(queryNode) : '')
            .replaceAll('${kv}', kv)
            .replace(/\$\{(\w+)\}/g, (whole, name: string) => params.get(name)?.defaultValue?.text ?? whole);
        return { name: stringLiteral(props.get('name')) ?? '', query };
    });
}

// ---------------------------------------------------------------------------------------------
// What a query filters on
// ---------------------------------------------------------------------------------------------

export function stepFilters(query: string): string[] {
    const steps = [...query.matchAll(/\bstep\s*==\s*"([^"]+)"/g)].map((match) => match[1]);
    for (const match of query.matchAll(/\bstep\s+in\s*\(([^)]*)\)/g)) {
        steps.push(...[...match[1].matchAll(/"([^"]+)"/g)].map((literal) => literal[1]));
    }
    return steps;
}

export function parsedFields(query: string): string[] {
    const list = /parse-kv\s+message\s+as\s*\(([^)]*)\)/.exec(query)?.[1] ?? '';
    return list
        .split(',')
        .map((column) => column.split(':')[0].trim())
        .filter(Boolean);
}

/** Fields compared to a literal: `field == "value"` and `field > number`. */
export function comparedFields(query: string): string[] {
    const fields = [...query.matchAll(/\b(\w+)\s*(?:==|>|<|>=|<=)\s*(?:"[^"]*"|\d)/g)].map((match) => match[1]);
    return fields.filter((field) => field !== 'step');
}

function startsWithLiteral(query: string): string | undefined {
    return /\b(?:message|text)\s+startswith\s+"([^"]*)"/.exec(query)?.[1];
}

// ---------------------------------------------------------------------------------------------
// The check
// ---------------------------------------------------------------------------------------------

/** A line as the code writes it for this step, with every field it logs. */
export function sampleLine(step: string, fields: Iterable<string>): string {
    return formatFields(step, Object.fromEntries([...fields].map((field) => [field, '1'])));
}

function fieldsOf(step: string, problems: string[], rule: string): Set<string> | undefined {
    const logged = loggedSteps().get(step);
    const pinned = pinnedSteps[step];
    if (!logged && !pinned) {
        problems.push(`alert ${rule} filters step ${step}, which no code in functions/ or shared/ logs`);
        return undefined;
    }
    if (logged && pinned) {
        for (const field of pinned.fields) {
            if (!logged.fields.has(field))
                problems.push(`step ${step} is pinned with field ${field}, which the code does not log`);
        }
    }
    return logged?.fields ?? new Set(pinned.fields);
}

function checkStepRule(rule: AlertRule): string[] {
    const problems: string[] = [];
    const steps = stepFilters(rule.query);
    if (steps.length === 0) return [`alert ${rule.name} filters no step (step == "…" or step in (…))`];
    const prefix = startsWithLiteral(rule.query);
    const known = new Set<string>(['step']);
    for (const step of steps) {
        const fields = fieldsOf(step, problems, rule.name);
        if (!fields) continue;
        fields.forEach((field) => known.add(field));
        if (prefix !== undefined && !sampleLine(step, fields).startsWith(prefix)) {
            problems.push(`alert ${rule.name}: a ${step} line does not start with "${prefix}"`);
        }
    }
    for (const field of [...parsedFields(rule.query), ...comparedFields(rule.query)]) {
        if (!known.has(field))
            problems.push(`alert ${rule.name} reads field ${field}, which no ${steps.join('/')} line carries`);
    }
    return problems;
}

/**
 * The poison queue of every queue the app provisions. A Functions host names it in its line: ours for the queues
 * our functions take from, and for instances-received the consumer's, when that is a Functions queue trigger.
 */
export const everyPoisonQueue = Object.values(queues).map(poisonQueueOf);

function checkHostLineRule(rule: AlertRule): string[] {
    const problems: string[] = [];
    const prefix = startsWithLiteral(rule.query);
    // parse message with * "<before>" poisonQueue "<after>" *
    const parse = /parse\s+message\s+with\s+\*\s+"([^"]*)"\s+(\w+)\s+"([^"]*)"\s+\*/.exec(rule.query);
    for (const poisonQueue of everyPoisonQueue) {
        const line = poisonMoveLine(maxDequeueCount(), poisonQueue);
        if (prefix === undefined || !line.startsWith(prefix)) {
            problems.push(`alert ${rule.name}: the host's line "${line}" does not start with "${String(prefix)}"`);
        }
        const extracted = parse ? line.split(parse[1])[1]?.split(parse[3])[0] : undefined;
        if (extracted !== poisonQueue) {
            problems.push(`alert ${rule.name}: parsing "${line}" does not give the poison queue ${poisonQueue}`);
        }
    }
    return problems;
}

/** The host's start-up failure, as the local host prints it word for word (dev/host/log.ts). */
function checkHostStartRule(rule: AlertRule): string[] {
    const line = hostStartupErrorLine(randomUUID());
    const prefix = startsWithLiteral(rule.query);
    if (prefix === undefined || !line.startsWith(prefix)) {
        return [`alert ${rule.name}: the host's line "${line}" does not start with "${String(prefix)}"`];
    }
    return /\bexceptions\b/.test(rule.query)
        ? []
        : [`alert ${rule.name}: the host logs this error with its exception, so the query must read exceptions too`];
}

export function checkAlertQueries(infra: Infra): string[] {
    return alertRules(infra).flatMap((rule) =>
        rule.name === 'poison-message'
            ? checkHostLineRule(rule)
            : rule.name === 'host-start-failed'
              ? checkHostStartRule(rule)
              : checkStepRule(rule),
    );
}

/** Every rule is on the Application Insights component and notifies the action group; the email is optional. */
export function checkAlertWiring(infra: Infra): string[] {
    const file = alertsBicep(infra);
    const problems: string[] = [];
    const ruleResource = file.resources().find((r) => r.type.startsWith('Microsoft.Insights/scheduledQueryRules@'));
    if (ruleResource?.loopOver !== 'rules') problems.push(`${alertsFile}: no scheduledQueryRules looping over rules`);
    const scopes = arrayItems(property(ruleResource?.body, 'properties', 'scopes')).map((node) => node.text);
    if (scopes.join() !== 'applicationInsights.id')
        problems.push(`${alertsFile}: rules must be scoped to applicationInsights.id`);
    // Inline, or a variable the rules name.
    const groups = property(ruleResource?.body, 'properties', 'actions', 'actionGroups')?.text ?? '';
    const wiring = file.variable(groups)?.text ?? groups;
    if (!wiring.includes('actionGroup.id') || !/empty\(actionGroupId\)/.test(wiring)) {
        problems.push(`${alertsFile}: rules must notify actionGroup.id, and actionGroupId when it is given`);
    }
    const group = file.resources().find((r) => r.type.startsWith('Microsoft.Insights/actionGroups@'));
    const receivers = property(group?.body, 'properties', 'emailReceivers')?.text ?? '';
    if (!/^empty\(alertEmail\)\s*\?\s*\[\]/.test(receivers)) {
        problems.push(`${alertsFile}: the action group must have no email receiver when alertEmail is empty`);
    }
    const names = alertRules(infra).map((rule) => rule.name);
    if (new Set(names).size !== names.length) problems.push(`${alertsFile}: rule names repeat`);
    return problems;
}
