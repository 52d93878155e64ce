/**
 * Rewrites the settings table in README.md from the catalogue in shared/settings.ts, so the
 * documentation cannot drift from what the code reads. Run: npm run docs:settings
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { settingNames, settings, type SettingSpec } from '../../shared/settings';

const start = '<!-- settings-table:start -->';
const end = '<!-- settings-table:end -->';

function cell(text: string): string {
    return text.replace(/\|/g, '\\|');
}

export function settingsTable(): string {
    const rows = settingNames.map((name) => {
        const spec: SettingSpec = settings[name];
        const notes = [
            spec.default !== undefined ? `Default \`${spec.default}\`.` : '',
            spec.localOnly ? 'Local only.' : '',
        ]
            .filter(Boolean)
            .join(' ');
        return `| \`${name}\` | ${cell(spec.description)} ${notes} | \`${cell(spec.example)}\` |`;
    });
    return ['| Setting | Meaning | Example |', '| --- | --- | --- |', ...rows].join('\n');
}

export function withSettingsTable(readme: string): string {
    const from = readme.indexOf(start);
    const to = readme.indexOf(end);
    if (from < 0 || to < from) throw new Error(`README.md lacks the markers ${start} … ${end}`);
    return `${readme.slice(0, from + start.length)}\n\n${settingsTable()}\n\n${readme.slice(to)}`;
}

if (require.main === module) {
    const path = join(__dirname, '..', '..', '..', 'README.md');
    writeFileSync(path, withSettingsTable(readFileSync(path, 'utf8')));
    console.log(`Updated the settings table in ${path}`);
}
