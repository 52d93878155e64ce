/**
 * The deployment holds no secrets, its parameters file fits main.bicep, azure.yaml fits the
 * templates, and the outputs give what an owner needs after `azd up`.
 */
import {
    checkAzureYaml,
    checkDeployDoc,
    checkNoSecrets,
    checkOutputs,
    checkParametersFile,
    eventsReceiverRoute,
    files,
    loadInfra,
    replaceOnce,
} from './support/invariants';

describe('Secrets', () => {
    it('no account key, connection string with a key, listKeys, secure parameter or output, or hard-coded Azure host', async () => {
        expect(checkNoSecrets(await loadInfra())).toEqual([]);
    });

    it('reports an account key connection string and a listKeys call', async () => {
        const infra = await loadInfra({
            [files.functionApp]: replaceOnce(
                "  AzureWebJobsStorage__credential: 'managedidentity'\n",
                "  AzureWebJobsStorage__credential: 'managedidentity'\n  Other: 'DefaultEndpointsProtocol=https;AccountName=x;AccountKey=${listKeys(resourceId('Microsoft.Storage/storageAccounts', 'x'), '2023-05-01').keys[0].value}'\n",
            ),
        });
        expect(checkNoSecrets(infra)).toEqual(
            expect.arrayContaining([
                expect.stringContaining('a list*() call'),
                expect.stringContaining('an account key'),
                expect.stringContaining('a storage connection string'),
            ]),
        );
    });

    it('reports a secure output, a secret parameter, a connection string output and a literal host', async () => {
        const infra = await loadInfra({
            [files.main]: (source) =>
                `${source}\n@secure()\noutput TOKEN string = 'x'\n@secure()\nparam password string\noutput AI string = monitoring.outputs.connectionString\noutput BLOB string = 'https://x.blob.core.windows.net'\n`,
        });
        expect(checkNoSecrets(infra)).toEqual(
            expect.arrayContaining([
                'infra/main.bicep: output TOKEN is @secure: outputs must not carry secrets',
                'infra/main.bicep: param password is a secret input; secrets belong in Key Vault, not in parameters',
                'infra/main.bicep: output AI exposes monitoring.outputs.connectionString',
                "infra/main.bicep: hard-coded host in 'https://x.blob.core.windows.net'; use environment()",
            ]),
        );
    });

    it('reports a literal value in main.parameters.json', async () => {
        const infra = await loadInfra({ [files.parameters]: replaceOnce('"${ALTINN_ORG}"', '"ttd"') });
        expect(checkNoSecrets(infra)).toEqual([
            'infra/main.parameters.json: org must be an azd ${VARIABLE} reference, not "ttd"',
        ]);
    });
});

describe('main.parameters.json', () => {
    it('names only params of main.bicep, and every param without a default', async () => {
        expect(checkParametersFile(await loadInfra())).toEqual([]);
    });

    it('reports an unknown parameter and a missing required one', async () => {
        const unknown = await loadInfra({
            [files.parameters]: replaceOnce(
                '"parameters": {',
                '"parameters": {\n        "bogus": { "value": "${BOGUS}" },',
            ),
        });
        expect(checkParametersFile(unknown)).toEqual([
            'infra/main.parameters.json: bogus is not a param of infra/main.bicep',
        ]);
        const missing = await loadInfra({
            [files.parameters]: replaceOnce(
                ',\n        "maskinportenClientId": {\n            "value": "${MASKINPORTEN_CLIENT_ID}"\n        }',
                '',
            ),
        });
        expect(checkParametersFile(missing)).toEqual([
            'infra/main.bicep: param maskinportenClientId has no default and is missing from infra/main.parameters.json',
        ]);
    });
});

describe('azure.yaml', () => {
    it('has a function service whose name is an azd-service-name tag', async () => {
        expect(checkAzureYaml(await loadInfra())).toEqual([]);
    });

    it('reports a service that no resource is tagged with', async () => {
        const infra = await loadInfra({ [files.azureYaml]: replaceOnce(/^ {4}api:$/m, '    web:') });
        expect(checkAzureYaml(infra)).toEqual(['azure.yaml: service web matches no azd-service-name tag (tags: api)']);
    });

    it('reports a service that would not ship exactly the package npm run package builds', async () => {
        const infra = await loadInfra({
            [files.azureYaml]: (source) =>
                source
                    .replace('dist: .package/app', 'dist: dist')
                    .replace('remoteBuild: false', 'remoteBuild: true')
                    .replace('run: npm run package', 'run: npm run build'),
        });
        expect(checkAzureYaml(infra)).toEqual([
            "azure.yaml: service api must have dist: .package/app (npm run package's folder)",
            'azure.yaml: service api must have remoteBuild: false (the package carries node_modules)',
            'azure.yaml: service api must build the package in a prepackage hook: run: npm run package',
        ]);
    });
});

describe('Outputs', () => {
    it('give the webhook URL without key, storage account, Key Vault and the function key command', async () => {
        const infra = await loadInfra();
        expect(eventsReceiverRoute(infra)).toBe('eventsreceiver');
        expect(checkOutputs(infra)).toEqual([]);
    });

    it('report a webhook URL with a key, or one that does not match the EventsReceiver route', async () => {
        const withKey = await loadInfra({
            [files.main]: replaceOnce("/api/eventsreceiver'", "/api/eventsreceiver?code=${functionApp.outputs.name}'"),
        });
        expect(checkOutputs(withKey)).toContainEqual(expect.stringContaining('output WEBHOOK_URL must'));

        const otherRoute = await loadInfra({
            [files.eventsReceiver]: replaceOnce("route: 'eventsreceiver'", "route: 'events'"),
        });
        expect(checkOutputs(otherRoute)).toContainEqual(
            expect.stringMatching(/^output WEBHOOK_URL must be https:\/\/<host>\/api\/events, is /),
        );
    });

    it('report a missing function key command', async () => {
        const infra = await loadInfra({
            [files.main]: replaceOnce('output FUNCTION_KEY_COMMAND string', 'output KEY_COMMAND string'),
        });
        expect(checkOutputs(infra)).toContainEqual(expect.stringContaining('output FUNCTION_KEY_COMMAND must be'));
    });
});

describe('docs/deploy.md', () => {
    it('explains every output and parameter of main.bicep', async () => {
        expect(checkDeployDoc(await loadInfra())).toEqual([]);
    });

    it('reports an output or parameter it does not mention', async () => {
        const infra = await loadInfra({
            [files.main]: (source) => `${source}\nparam extraSetting string = ''\noutput EXTRA string = extraSetting\n`,
        });
        expect(checkDeployDoc(infra)).toEqual([
            'docs/deploy.md does not explain output EXTRA',
            'docs/deploy.md does not explain param extraSetting',
        ]);
    });
});
