import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { applySettings, getSetting, resolveBindingExpression } from '../../../dev/host/settings';
import { mergeSettings, readLocalHttpPort, readLocalSettings } from '../../../shared/localSettings';

const fixtureApp = resolve(__dirname, '..', '..', 'fixtures', 'hostapp');

test('reads Values from local.settings.json; the environment wins', () => {
    const local = readLocalSettings(fixtureApp);
    expect(local.FixtureGreeting).toBe('from-local-settings');
    const merged = mergeSettings(local, { FixtureGreeting: 'from-env', Absent: undefined, PATH_LIKE: '/bin' });
    expect(merged.FixtureGreeting).toBe('from-env');
    expect(merged.OnlyInLocalSettings).toBe('local-value');
    expect(merged.PATH_LIKE).toBe('/bin');
    expect('Absent' in merged).toBe(false);

    const env: Record<string, string | undefined> = {};
    applySettings(merged, env);
    expect(env.OnlyInLocalSettings).toBe('local-value');
});

test('a missing file is no settings; an encrypted or malformed one is an error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'host-settings-'));
    try {
        expect(readLocalSettings(dir)).toEqual({});
        writeFileSync(join(dir, 'local.settings.json'), '{"IsEncrypted": true, "Values": {}}');
        expect(() => readLocalSettings(dir)).toThrow(/encrypted/);
        expect(readLocalHttpPort(dir)).toBeUndefined();
        writeFileSync(
            join(dir, 'local.settings.json'),
            '{"Values": {"N": 5, "B": true}, "Host": {"LocalHttpPort": 7072}}',
        );
        expect(readLocalSettings(dir)).toEqual({ N: '5', B: 'true' });
        expect(readLocalHttpPort(dir)).toBe(7072);
        writeFileSync(join(dir, 'local.settings.json'), '{nope');
        expect(() => readLocalSettings(dir)).toThrow(/not valid JSON/);
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
});

test('resolves %Setting% expressions, case-insensitively as a fallback, and names a missing setting', () => {
    const settings = { QueueName: 'events-inbound', Schedule: '0 */5 * * * *' };
    expect(resolveBindingExpression('%QueueName%', settings, 'x')).toBe('events-inbound');
    expect(resolveBindingExpression('%queuename%-poison', settings, 'x')).toBe('events-inbound-poison');
    expect(resolveBindingExpression('plain', settings, 'x')).toBe('plain');
    expect(() => resolveBindingExpression('%Missing%', settings, "Function 'F' queueName")).toThrow(
        "Function 'F' queueName: '%Missing%' does not resolve to a value: app setting 'Missing' is not set.",
    );
    expect(getSetting(settings, 'SCHEDULE')).toBe('0 */5 * * * *');
});
