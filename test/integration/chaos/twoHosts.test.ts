import { runScenario } from '../../../dev/chaos/runner';
import { scenarioNamed, type ChaosOptions } from '../../../dev/chaos/scenarios';
import { useChaosFolder } from '../../support/chaos';

/*
 * Two local hosts (dev/host, child processes) on one Azurite, with the catch-up on, and every event
 * posted to both webhooks at the same moment: 2 × 50 instances. Every instance must be stored,
 * manifest.json and instance.json of the version Altinn has and consistent with the blobs (sizes
 * and SHA-256), nothing confirmed without its data, every instance handed off with that version.
 * The complete calls, hand-off messages and GETs per instance are printed (`npm run chaos --
 * --scenario two-hosts` prints the same); a true race may repeat complete and the hand-off.
 */

const options: ChaosOptions = { instances: 100, outageSeconds: 8, faultRate: 0, realHold: false, settleSeconds: 120 };

const chaos = useChaosFolder('two-hosts-test');

test('two hosts, each event to both at once: every instance stored as Altinn has it, nothing confirmed without data', async () => {
    const result = await runScenario(scenarioNamed('two-hosts'), options, {
        workDir: chaos.workDir,
        client: chaos.client,
        say: process.env.CHAOS_LOG ? (line) => console.log(line) : undefined,
    });
    const figures = result.notes.find((note) => note.startsWith('per instance'));
    console.log(`two hosts, ${options.instances} instances: ${figures ?? '(no figures)'}`);
    const outcome = {
        sent: result.sent,
        stored: result.stored,
        lost: result.lost,
        confirmedWithoutData: result.confirmedWithoutData,
        problems: result.problems,
        poison: result.poison,
    };
    const expected = {
        sent: options.instances,
        stored: options.instances,
        lost: [],
        confirmedWithoutData: [],
        problems: [],
        poison: 0,
    };
    if (JSON.stringify(outcome) !== JSON.stringify(expected)) {
        throw new Error(`${JSON.stringify(outcome)}\n${result.notes.join('\n')}`);
    }
    expect(outcome).toEqual(expected);
    expect(figures).toMatch(/^per instance \(count × instances\): complete calls /);
}, 240_000);
