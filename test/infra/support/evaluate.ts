/**
 * Just enough Bicep evaluation to follow a switch through the templates without a compiler: literals,
 * parameters (a scope of values), `!`, `&&`, `||`, `==`, `!=`, the ternary, `empty()`, objects and
 * arrays. Anything else (a resource property, an output, environment()) evaluates to an Unknown
 * carrying its source text, so that a check can still say what a value depends on; `empty()` of an
 * output is taken as false (an output of a deployed module is set).
 */
import type { Node } from 'web-tree-sitter';
import { objectProperties, stringLiteral, stringTemplate } from './bicepTree';

export class Unknown {
    constructor(readonly text: string) {}
}

export type Value = string | number | boolean | null | Unknown | Value[] | { [key: string]: Value };

export type Scope = Record<string, Value>;

function named(node: Node): Node[] {
    return node.namedChildren.filter((child): child is Node => child !== null && child.type !== 'comment');
}

export function evaluate(node: Node | undefined, scope: Scope): Value {
    if (!node) return null;
    switch (node.type) {
        case 'string': {
            const literal = stringLiteral(node);
            return literal ?? new Unknown(stringTemplate(node));
        }
        case 'number':
            return Number(node.text);
        case 'boolean':
            return node.text === 'true';
        case 'null':
            return null;
        case 'identifier':
            return node.text in scope ? scope[node.text] : new Unknown(node.text);
        case 'parenthesized_expression':
            return evaluate(named(node)[0], scope);
        case 'unary_expression': {
            const value = evaluate(node.childForFieldName('argument') ?? named(node)[0], scope);
            return node.text.startsWith('!') && typeof value === 'boolean' ? !value : new Unknown(node.text);
        }
        case 'binary_expression': {
            const left = evaluate(node.childForFieldName('left') ?? undefined, scope);
            const right = evaluate(node.childForFieldName('right') ?? undefined, scope);
            const operator = node.children.find((child) => child && !child.isNamed)?.text;
            if (left instanceof Unknown || right instanceof Unknown) return new Unknown(node.text);
            if (operator === '&&') return Boolean(left) && Boolean(right);
            if (operator === '||') return Boolean(left) || Boolean(right);
            if (operator === '==') return JSON.stringify(left) === JSON.stringify(right);
            if (operator === '!=') return JSON.stringify(left) !== JSON.stringify(right);
            return new Unknown(node.text);
        }
        case 'ternary_expression': {
            const condition = evaluate(node.childForFieldName('condition') ?? undefined, scope);
            if (typeof condition !== 'boolean') return new Unknown(node.text);
            return evaluate(node.childForFieldName(condition ? 'consequence' : 'alternative') ?? undefined, scope);
        }
        case 'call_expression': {
            const name = node.childForFieldName('function')?.text;
            const args = named(node.childForFieldName('arguments') ?? node).slice(name ? 0 : 1);
            if (name === 'empty' && args.length === 1) {
                const value = evaluate(args[0], scope);
                // A module's or resource's output (x.outputs.y, x.properties.y) is taken as set.
                if (value instanceof Unknown)
                    return /\.(outputs|properties)\./.test(value.text) ? false : new Unknown(node.text);
                return value === null || value === '' || (Array.isArray(value) && value.length === 0);
            }
            return new Unknown(node.text);
        }
        case 'object':
            return Object.fromEntries([...objectProperties(node)].map(([key, value]) => [key, evaluate(value, scope)]));
        case 'array':
            return named(node).map((item) => evaluate(item, scope));
        default:
            return new Unknown(node.text);
    }
}
