import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { settingNames } from '../../../shared/settings';

const root = join(__dirname, '..', '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const sample = JSON.parse(readFileSync(join(root, 'local.settings.sample.json'), 'utf8')) as {
    Values: Record<string, string>;
};

test('the README opens with the two commands a newcomer needs', () => {
    const top = readme.split('\n').slice(0, 12).join('\n');
    expect(top).toContain('npm ci && npm start');
    expect(top).toContain('npm ci && npm test');
});

test.each(settingNames)('README documents the setting %s in the settings table', (name) => {
    expect(readme).toMatch(new RegExp(`^\\| \`${name}\` +\\|`, 'm'));
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
