import { checkSigningKey } from '../../../shared/check/altinnCheck';
import { loadConfig } from '../../../shared/config';
import { certificatePem, pkcs12Base64, pkcs8Pem, rsaKey } from '../altinn/fixtures';

/* The key checks with Key Vault, through the same loader as the token provider (readSecret stands in for Key Vault). */

const now = new Date();
const day = 24 * 3600_000;
const config = loadConfig({
    AltinnPlatformBaseUrl: 'https://platform.tt02.altinn.no',
    AltinnAppsBaseUrl: 'https://ttd.apps.tt02.altinn.no',
    MaskinportenBaseUrl: 'https://test.maskinporten.no',
    MaskinportenClientId: 'a1b2c3',
    MaskinportenScopes: 'altinn:serviceowner/instances.read',
    MaskinportenKeyVaultUri: 'https://kv-aos.vault.azure.net',
    MaskinportenSecretName: 'maskinporten-key',
});

test('a certificate imported into Key Vault (PKCS#12): ok, with its subject and dates', async () => {
    const key = rsaKey();
    const pem = certificatePem(key, { commonName: 'Testdepartementet', notAfter: new Date(now.getTime() + 200 * day) });
    const readSecret = () => Promise.resolve({ value: pkcs12Base64(key, [pem]), contentType: 'application/x-pkcs12' });
    const { results, key: loaded } = await checkSigningKey(config, { readSecret, now });
    expect(loaded).toBeDefined();
    expect(results.map((result) => [result.name, result.status])).toEqual([
        ['Maskinporten key', 'ok'],
        ['Certificate validity', 'ok'],
    ]);
    expect(results[0].detail).toBe(
        'Key Vault secret "maskinporten-key" in https://kv-aos.vault.azure.net: RSA 2048 bits, the grant carries its x5c certificate',
    );
    expect(results[1].detail).toMatch(
        /^CN=Testdepartementet: valid \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d \((199|200) days left\)$/,
    );
});

test('a certificate that ends within 30 days is a warning', async () => {
    const key = rsaKey();
    const pem = certificatePem(key, { notAfter: new Date(now.getTime() + 10 * day + 3600_000) });
    const readSecret = () => Promise.resolve({ value: `${pkcs8Pem(key)}${pem}` });
    const { results } = await checkSigningKey(config, { readSecret, now });
    expect(results[1]).toMatchObject({
        status: 'warning',
        detail: expect.stringMatching(/expires in 10 day\(s\)$/) as string,
    });
});

test("Key Vault refusing the app's identity names the role to give it", async () => {
    const refused = Object.assign(new Error('Forbidden'), { statusCode: 403 });
    const { results, key } = await checkSigningKey(config, { readSecret: () => Promise.reject(refused), now });
    expect(key).toBeUndefined();
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({
        status: 'failed',
        action: "give the function app's identity the Key Vault Secrets User role on the vault (infra/app/rbac.bicep)",
    });
    expect(results[0].detail).toMatch(/was refused \(403\).*; the Maskinporten and Altinn checks did not run$/);
});
