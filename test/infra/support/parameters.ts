/**
 * Every parameter of main.bicep is reachable with `azd env set`: main.parameters.json maps each one
 * to an azd environment variable, and azd ignores every variable the file does not name. How azd
 * reads the file (Azure/azure-dev, cli/azd/pkg/infra/provisioning/bicep/bicep_provider.go,
 * loadParameters and armParameterFileValue; drone/envsubst v1.0.3, template.go and funcs.go):
 *
 * - `${VAR}` with VAR unset resolves to an empty string, and azd then leaves the parameter out, so
 *   the Bicep default applies (also a computed one, such as deployer().objectId or
 *   https://<org>.apps.tt02.altinn.no);
 * - `${VAR=default}` takes `default` when VAR is unset *or empty* (envsubst's toDefault), so an
 *   empty value cannot switch a feature off: the switches are booleans (VNET_ENABLED=true,
 *   CATCH_UP_ENABLED=false) and bool and int strings are converted to the parameter's type.
 *
 * So: a parameter with a literal default carries that default in its mapping, equal to the Bicep
 * one (the file then shows every default in one place, and cannot drift); a parameter whose
 * default is empty or computed, or that has none, maps to a plain `${VAR}`.
 */
import type { Node } from 'web-tree-sitter';
import { stringLiteral } from './bicepTree';
import { files, parameterValues, type Infra } from './invariants';

export interface AzdMapping {
    variable: string;
    /** The `=default` part, when there is one. */
    fallback?: string;
}

export function parseMapping(value: unknown): AzdMapping | undefined {
    if (typeof value !== 'string') return undefined;
    const match = /^\$\{([A-Z][A-Z0-9_]*)(?:=([^}]*))?\}$/.exec(value);
    return match ? { variable: match[1], fallback: match[2] } : undefined;
}

/** The literal a default expression is, as azd would have to write it; undefined for '' and computed ones. */
export function literalDefault(node: Node | undefined): string | undefined {
    if (!node) return undefined;
    if (node.type === 'string') {
        const literal = stringLiteral(node);
        return literal === '' ? undefined : literal;
    }
    return /^(true|false|-?\d+)$/.test(node.text) ? node.text : undefined;
}

export function parameterMappings(infra: Infra): Map<string, AzdMapping | undefined> {
    return new Map(Object.entries(parameterValues(infra)).map(([name, value]) => [name, parseMapping(value)]));
}

export function checkParameterMappings(infra: Infra): string[] {
    const problems: string[] = [];
    const mappings = parameterMappings(infra);
    const variables = new Map<string, string>();
    for (const param of infra.main.params().values()) {
        const mapping = mappings.get(param.name);
        if (!mappings.has(param.name)) {
            problems.push(`${files.parameters}: param ${param.name} is not mapped, so azd env set cannot reach it`);
            continue;
        }
        if (!mapping) {
            problems.push(`${files.parameters}: ${param.name} must be \${VARIABLE} or \${VARIABLE=default}`);
            continue;
        }
        const other = variables.get(mapping.variable);
        if (other) problems.push(`${files.parameters}: ${param.name} and ${other} both read ${mapping.variable}`);
        variables.set(mapping.variable, param.name);
        const literal = literalDefault(param.defaultValue);
        if (literal !== undefined && mapping.fallback !== literal) {
            problems.push(
                `${files.parameters}: ${param.name} must be \${${mapping.variable}=${literal}} (its default in ${files.main}), not \${${mapping.variable}${mapping.fallback === undefined ? '' : `=${mapping.fallback}`}}`,
            );
        }
        if (literal === undefined && mapping.fallback !== undefined) {
            problems.push(
                `${files.parameters}: ${param.name} has ${param.defaultValue ? 'a computed or empty default' : 'no default'} in ${files.main}, so its mapping must be \${${mapping.variable}} without one`,
            );
        }
    }
    return problems;
}

/** The azd variables a production deployment may set: each named in docs/deploy.md. */
export function checkVariablesDocumented(infra: Infra): string[] {
    return [...parameterMappings(infra).values()]
        .flatMap((mapping) => (mapping ? [mapping.variable] : []))
        .filter((variable) => !new RegExp(`\\b${variable}\\b`).test(infra.deployDoc))
        .map((variable) => `${files.deployDoc} does not name the azd variable ${variable}`);
}
