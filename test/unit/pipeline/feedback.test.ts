import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../shared/config';
import {
    defaultTemplatePath,
    feedbackPlaceholders,
    feedbackValues,
    loadFeedbackTemplate,
    renderFeedback,
    xmlEscape,
} from '../../../shared/instances/feedback';
import { parseInstanceSource } from '../../../shared/instances/source';

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'feedback-unit-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ref = parseInstanceSource(
    'https://ttd.apps.example/ttd/apps-test/instances/50015641/0f5d3a28-7cde-4d6c-a7a2-2d8d1b2d8a11',
    'https://ttd.apps.example',
);

test('XML escaping covers the five special characters', () => {
    expect(xmlEscape(`a&b<c>d"e'f`)).toBe('a&amp;b&lt;c&gt;d&quot;e&apos;f');
});

test('placeholders are replaced with escaped values, with or without inner spaces', () => {
    const values = { ...feedbackValues(ref, '2026-01-01T00:00:00.000Z'), org: '<&>' };
    expect(renderFeedback('<r o="{{org}}" a="{{ app }}">{{instanceId}}|{{receivedAt}}</r>', values)).toBe(
        '<r o="&lt;&amp;&gt;" a="apps-test">50015641/0f5d3a28-7cde-4d6c-a7a2-2d8d1b2d8a11|2026-01-01T00:00:00.000Z</r>',
    );
});

test('the built-in template uses every placeholder and renders to well-formed text without braces', async () => {
    const template = await loadFeedbackTemplate();
    expect(template).toBe(readFileSync(defaultTemplatePath(), 'utf8'));
    for (const name of feedbackPlaceholders) expect(template).toContain(`{{${name}}}`);
    const xml = renderFeedback(template, feedbackValues(ref, '2026-01-01T00:00:00.000Z'));
    expect(xml).not.toMatch(/\{\{|\}\}/);
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="utf-8"\?>/);
    expect(xml).toContain('<partyId>50015641</partyId>');
});

test('a template with an unknown placeholder is a configuration error naming the setting', async () => {
    const file = join(dir, 'bad.xml');
    writeFileSync(file, '<x>{{instanceId}} {{nope}}</x>');
    await expect(loadFeedbackTemplate(file)).rejects.toThrow(ConfigError);
    await expect(loadFeedbackTemplate(file)).rejects.toThrow(/FeedbackTemplatePath.*\{\{nope\}\}/);
});

test('a template that cannot be read is a configuration error naming the setting', async () => {
    await expect(loadFeedbackTemplate(join(dir, 'missing.xml'))).rejects.toThrow(
        /Setting FeedbackTemplatePath: cannot read .*ENOENT/,
    );
});

test('a relative template path is read from the working directory (the app root)', async () => {
    writeFileSync(join(dir, 'rel.xml'), '<x>{{org}}</x>');
    const cwd = process.cwd();
    process.chdir(dir);
    try {
        await expect(loadFeedbackTemplate('rel.xml')).resolves.toBe('<x>{{org}}</x>');
    } finally {
        process.chdir(cwd);
    }
});
