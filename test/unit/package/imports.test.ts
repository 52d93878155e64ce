import { moduleLoads, packageNameOf, unavailableModules } from '../../../dev/package/imports';

test('package names of deep and scoped specifiers', () => {
    expect(packageNameOf('@azure/storage-blob/dist/x')).toBe('@azure/storage-blob');
    expect(packageNameOf('undici/lib/web/infra')).toBe('undici');
});

test('require and import calls are found by parsing, with their positions; mentions in text are not', () => {
    const code = [
        'var a = require("node:fs");',
        "const b = 'require(\"jest\")'; // require('eslint')",
        'const re = /require\\("x"\\)/;',
        'obj.require("not-a-module");',
        'async function later() { return import("typescript"); }',
        'const name = "x"; require(name);',
    ].join('\n');
    expect(moduleLoads(code, 'dist/main.js')).toEqual([
        { specifier: 'node:fs', line: 1, column: 9 },
        { specifier: 'typescript', line: 5, column: 33 },
        { specifier: undefined, line: 6, column: 19 },
    ]);
});

test('built-ins, the provided module and files of the package pass; anything else is named with its place', () => {
    const code = [
        'require("node:fs"); require("path"); require("util/types");',
        'require("@azure/functions-core");',
        'require("./deferred/undici.js");',
        'require("./deferred/missing.js");',
        'require("@azure/storage-blob");',
        'require(process.env.X);',
    ].join('\n');
    expect(
        unavailableModules(code, 'dist/main.js', ['@azure/functions-core'], new Set(['dist/deferred/undici.js'])),
    ).toEqual([
        "dist/main.js:4:1 loads './deferred/missing.js', which is neither built into Node, nor provided by the Functions worker (@azure/functions-core), nor a file of the package",
        "dist/main.js:5:1 loads '@azure/storage-blob', which is neither built into Node, nor provided by the Functions worker (@azure/functions-core), nor a file of the package",
        'dist/main.js:6:1 loads a module whose name it computes at run time',
    ]);
});
