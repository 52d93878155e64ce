import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageNameOf, undeclaredImports } from '../../../dev/package/imports';

let folder: string;

beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'aos-imports-'));
    mkdirSync(join(folder, 'dist', 'shared'), { recursive: true });
});

afterEach(() => rmSync(folder, { recursive: true, force: true }));

test('package names of deep and scoped specifiers', () => {
    expect(packageNameOf('@azure/storage-blob/dist/x')).toBe('@azure/storage-blob');
    expect(packageNameOf('undici/lib/web/infra')).toBe('undici');
});

test('built-ins, relative files and production dependencies pass; development packages are named', () => {
    writeFileSync(
        join(folder, 'dist', 'shared', 'a.js'),
        [
            '"use strict";',
            'const fs = require("node:fs");',
            'const path = require("path");',
            'const local = require("./b");',
            'const blob = require("@azure/storage-blob");',
            'const parser = require("cron-parser");',
            'async function later() { return import("typescript"); }',
        ].join('\n'),
    );
    writeFileSync(join(folder, 'dist', 'shared', 'b.js'), 'module.exports = require("jose");');
    writeFileSync(join(folder, 'notes.txt'), 'require("jest")');
    const problems = undeclaredImports(
        folder,
        ['dist/shared/a.js', 'dist/shared/b.js', 'notes.txt'],
        ['@azure/storage-blob', 'jose'],
    );
    expect(problems).toEqual([
        "dist/shared/a.js imports 'cron-parser', which is not a production dependency in package.json",
        "dist/shared/a.js imports 'typescript', which is not a production dependency in package.json",
    ]);
});
