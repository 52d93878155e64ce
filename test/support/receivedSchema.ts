import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { repoRoot } from './host';

/** A JSON Schema in docs/ compiled with a draft 2020-12 validator; errors as readable text. */
export function docsSchemaValidator(file: string): (message: unknown) => string[] {
    const schema = JSON.parse(readFileSync(join(repoRoot, 'docs', file), 'utf8')) as object;
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    addFormats(ajv);
    const validate = ajv.compile(schema);
    return (message) => (validate(message) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));
}

/** docs/instances-received.schema.json. */
export function receivedValidator(): (message: unknown) => string[] {
    return docsSchemaValidator('instances-received.schema.json');
}
