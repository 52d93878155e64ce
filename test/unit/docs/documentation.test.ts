import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { settingsPage, withSettingsTable } from '../../../dev/tools/settingsTable';
import { settingNames } from '../../../shared/settings';

const root = join(__dirname, '..', '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const settingsDoc = readFileSync(join(root, settingsPage), 'utf8');
const sample = JSON.parse(readFileSync(join(root, 'local.settings.sample.json'), 'utf8')) as {
    Values: Record<string, string>;
};

test('the README opens with the two commands a newcomer needs', () => {
    const top = readme.split('\n').slice(0, 12).join('\n');
    expect(top).toContain('npm ci && npm start');
    expect(top).toContain('npm ci && npm test');
});

test('the README stays a front page a newcomer reads in ten minutes: under 250 lines', () => {
    expect(readme.split('\n').length).toBeLessThan(250);
});

test.each(settingNames)(`${settingsPage} documents the setting %s in the settings table`, (name) => {
    expect(settingsDoc).toMatch(new RegExp(`^\\| \`${name}\` +\\|`, 'm'));
});

test(`${settingsPage}'s settings table is the one npm run docs:settings writes from the catalogue`, () => {
    // Formatted as the script formats it: Prettier's CLI (its API loads ES modules, which Jest's CommonJS cannot).
    const formatted = execFileSync(
        process.execPath,
        [require.resolve('prettier/bin/prettier.cjs'), '--stdin-filepath', join(root, settingsPage)],
        { input: withSettingsTable(settingsDoc), encoding: 'utf8' },
    );
    expect(formatted).toBe(settingsDoc);
});

test.each(settingNames)('local.settings.sample.json carries the setting %s', (name) => {
    expect(Object.keys(sample.Values)).toContain(name);
});

test('the sample targets loopback only and holds no real key', () => {
    for (const [name, value] of Object.entries(sample.Values)) {
        if (/BaseUrl$/.test(name) && value) expect(new URL(value).hostname).toBe('127.0.0.1');
    }
    expect(sample.Values.MaskinportenKey).not.toMatch(/BEGIN/);
});
