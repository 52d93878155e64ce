import { runScenario, type ScenarioResult } from '../../../dev/chaos/runner';
import { scenarios, type ChaosOptions } from '../../../dev/chaos/scenarios';
import { useChaosFolder } from '../../support/chaos';

/*
 * `npm run chaos` in small: every scenario of dev/chaos with a dozen instances and an 8-second
 * outage, through the real functions in the local host (a child process), a persisted Azurite (a
 * child process that is stopped and started) and the Altinn simulator. Needs `npm run build`
 * (npm test builds first). No instance may be lost, none confirmed without all its blobs, and only
 * the instances meant for it end in poison.
 */

const options: ChaosOptions = { instances: 12, outageSeconds: 8, faultRate: 0.2, realHold: false, settleSeconds: 60 };

const chaos = useChaosFolder('chaos-test');

function explain(result: ScenarioResult): string {
    return [...result.notes, result.keptIn ? `host log and Azurite data: ${result.keptIn}` : ''].join('\n');
}

// The two-host scenario runs in twoHosts.test.ts, at its own size.
const each = scenarios.filter((scenario) => scenario.name !== 'two-hosts');

test.each(each.map((scenario) => [scenario.name, scenario] as const))(
    '%s: nothing lost, nothing confirmed without its data, poison as expected',
    async (_name, scenario) => {
        const result = await runScenario(scenario, options, {
            workDir: chaos.workDir,
            client: chaos.client,
            say: process.env.CHAOS_LOG ? (line) => console.log(line) : undefined,
        });
        const outcome = {
            sent: result.sent,
            lost: result.lost,
            confirmedWithoutData: result.confirmedWithoutData,
            badNotPoisoned: result.badNotPoisoned,
            poison: result.poison,
            confirmedOrPoison: result.confirmed + result.poison,
        };
        const expected = {
            sent: options.instances,
            lost: [],
            confirmedWithoutData: [],
            badNotPoisoned: [],
            poison: scenario.expectedPoison(options),
            confirmedOrPoison: options.instances,
        };
        if (JSON.stringify(outcome) !== JSON.stringify(expected)) {
            throw new Error(`${scenario.name}: ${JSON.stringify(outcome)}\n${explain(result)}`);
        }
        expect(outcome).toEqual(expected);
    },
    120_000,
);
