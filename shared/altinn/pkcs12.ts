/**
 * Reads the base64 PKCS#12 that Key Vault returns as the secret of an imported certificate.
 * Node has no PKCS#12 parser, so node-forge decodes it; the result is handed back as DER/PEM for node:crypto.
 */
import type { PrivateKeyInput } from 'node:crypto';
import forge from 'node-forge';

export interface Pkcs12Contents {
    /** Each private key found, ready for crypto.createPrivateKey. */
    privateKeys: PrivateKeyInput[];
    /** DER of each certificate, in file order. */
    certificates: Buffer[];
}

export class Pkcs12Error extends Error {
    override name = 'Pkcs12Error';
}

/** Key Vault exports without a password; tools disagree whether that means '' or none, so both are tried. */
export function readPkcs12(base64: string): Pkcs12Contents {
    let asn1: forge.asn1.Asn1;
    try {
        const der = Buffer.from(base64.replace(/\s+/g, ''), 'base64');
        asn1 = forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary')));
    } catch {
        throw new Pkcs12Error('is not base64 DER');
    }
    let pfx: forge.pkcs12.Pkcs12Pfx | undefined;
    for (const password of ['', undefined]) {
        try {
            pfx = forge.pkcs12.pkcs12FromAsn1(asn1, false, password);
            break;
        } catch (error) {
            if (!/password|MAC|decrypt/i.test(error instanceof Error ? error.message : '')) {
                throw new Pkcs12Error('is not a readable PKCS#12 file');
            }
        }
    }
    if (!pfx) throw new Pkcs12Error('is a password-protected PKCS#12; store it without a password');

    const privateKeys: PrivateKeyInput[] = [];
    for (const bagType of [forge.pki.oids.pkcs8ShroudedKeyBag, forge.pki.oids.keyBag]) {
        for (const bag of pfx.getBags({ bagType })[bagType] ?? []) {
            // forge decodes RSA keys only; any other key comes as its PrivateKeyInfo, which node:crypto reads.
            if (bag.key) privateKeys.push({ key: forge.pki.privateKeyToPem(bag.key), format: 'pem' });
            else privateKeys.push({ key: derBytes(bag.asn1), format: 'der', type: 'pkcs8' });
        }
    }
    const certBag = forge.pki.oids.certBag;
    const certificates = (pfx.getBags({ bagType: certBag })[certBag] ?? [])
        .filter((bag) => bag.cert)
        .map((bag) => derBytes(forge.pki.certificateToAsn1(bag.cert!)));
    return { privateKeys, certificates };
}

function derBytes(asn1: forge.asn1.Asn1): Buffer {
    return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}
