/**
 * The log lines the code really writes, read from its source with the TypeScript compiler: every
 * call `logStep|warnStep|errorStep(logger, <step>, { fields })` in functions/ and shared/, with the
 * step resolved when it is a string literal or an exported `const` holding one, and the field names
 * of the object literal (spreads of a local `const x = { … }` included). The alert tests check the
 * rules' queries against these, so a renamed step or field fails a test instead of an alert.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { repoRoot } from './bicepTree';

export type Level = 'info' | 'warn' | 'error';

export interface LoggedStep {
    step: string;
    /** Every field name any call with this step logs. */
    fields: Set<string>;
    levels: Set<Level>;
    files: Set<string>;
}

const loggers: Record<string, Level> = { logStep: 'info', warnStep: 'warn', errorStep: 'error' };

function sourceFiles(): string[] {
    return ['functions', 'shared'].flatMap((dir) =>
        readdirSync(path.join(repoRoot, dir), { withFileTypes: true, recursive: true })
            .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
            .map((entry) => path.join(entry.parentPath, entry.name)),
    );
}

function parse(file: string): ts.SourceFile {
    return ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
}

function walk(node: ts.Node, visit: (node: ts.Node) => void): void {
    visit(node);
    node.forEachChild((child) => walk(child, visit));
}

/** `export const name = 'value'` across the sources: how step names kept as constants resolve. */
function stringConstants(files: ts.SourceFile[]): Map<string, string> {
    const constants = new Map<string, string>();
    for (const file of files) {
        walk(file, (node) => {
            if (
                ts.isVariableDeclaration(node) &&
                ts.isIdentifier(node.name) &&
                node.initializer &&
                ts.isStringLiteralLike(node.initializer)
            ) {
                constants.set(node.name.text, node.initializer.text);
            }
        });
    }
    return constants;
}

/** The object literal a spread names, when it is a `const x = { … }` in the function around the call. */
function localObject(call: ts.Node, name: string): ts.ObjectLiteralExpression | undefined {
    let scope: ts.Node = call;
    while (scope.parent && !ts.isFunctionLike(scope)) scope = scope.parent;
    let found: ts.ObjectLiteralExpression | undefined;
    walk(scope, (node) => {
        if (
            ts.isVariableDeclaration(node) &&
            ts.isIdentifier(node.name) &&
            node.name.text === name &&
            node.initializer &&
            ts.isObjectLiteralExpression(node.initializer)
        ) {
            found = node.initializer;
        }
    });
    return found;
}

function fieldNames(call: ts.Node, object: ts.ObjectLiteralExpression, into: Set<string>): void {
    for (const property of object.properties) {
        if (ts.isSpreadAssignment(property)) {
            if (ts.isIdentifier(property.expression)) {
                const spread = localObject(call, property.expression.text);
                if (spread) fieldNames(call, spread, into);
            }
            continue;
        }
        const name = property.name;
        if (name && (ts.isIdentifier(name) || ts.isStringLiteralLike(name))) into.add(name.text);
    }
}

let cached: Map<string, LoggedStep> | undefined;

/** Every step the code logs, by name. */
export function loggedSteps(): Map<string, LoggedStep> {
    if (cached) return cached;
    const files = sourceFiles().map(parse);
    const constants = stringConstants(files);
    const steps = new Map<string, LoggedStep>();
    for (const file of files) {
        walk(file, (node) => {
            if (!ts.isCallExpression(node) || !ts.isIdentifier(node.expression)) return;
            const level = loggers[node.expression.text];
            const stepArg = node.arguments[1];
            if (!level || !stepArg) return;
            const step = ts.isStringLiteralLike(stepArg)
                ? stepArg.text
                : ts.isIdentifier(stepArg)
                  ? constants.get(stepArg.text)
                  : undefined;
            if (step === undefined) return;
            const entry = steps.get(step) ?? { step, fields: new Set(), levels: new Set(), files: new Set() };
            entry.levels.add(level);
            entry.files.add(path.relative(repoRoot, file.fileName).split(path.sep).join('/'));
            const fields = node.arguments[2];
            if (fields && ts.isObjectLiteralExpression(fields)) fieldNames(node, fields, entry.fields);
            steps.set(step, entry);
        });
    }
    cached = steps;
    return steps;
}
