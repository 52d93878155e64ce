/**
 * Rewrites the settings table in docs/settings.md from the catalogue in shared/settings.ts, so the
 * documentation cannot drift from what the code reads. Run: npm run docs:settings
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { settingNames, settings, type SettingSpec } from '../../shared/settings';

/** The page that holds the table, relative to the repository. */
export const settingsPage = 'docs/settings.md';
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
            spec.localOnly ? 'Local development only: Bicep leaves it unset in Azure.' : '',
        ]
            .filter(Boolean)
            .join(' ');
        return `| \`${name}\` | ${cell(spec.description)} ${notes} | \`${cell(spec.example)}\` |`;
    });
    return ['| Setting | Meaning | Example |', '| --- | --- | --- |', ...rows].join('\n');
}

export function withSettingsTable(page: string): string {
    const from = page.indexOf(start);
    const to = page.indexOf(end);
    if (from < 0 || to < from) throw new Error(`${settingsPage} lacks the markers ${start} … ${end}`);
    return `${page.slice(0, from + start.length)}\n\n${settingsTable()}\n\n${page.slice(to)}`;
}

if (require.main === module) {
    const path = join(__dirname, '..', '..', '..', settingsPage);
    writeFileSync(path, withSettingsTable(readFileSync(path, 'utf8')));
    console.log(`Updated the settings table in ${path}`);
}
