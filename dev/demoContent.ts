/** What the demo's citizens submit: a small form (XML) and a one-page PDF receipt. */

export function demoFormXml(applicant: string, index: number): string {
    return [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<Soknad xmlns="urn:demo:soknad:v1">',
        `  <Soker>${applicant}</Soker>`,
        `  <Nummer>${index}</Nummer>`,
        '  <Formaal>Demonstrasjon av mottak i eget Azure-abonnement</Formaal>',
        '</Soknad>',
        '',
    ].join('\n');
}

/** A minimal, valid single-page PDF with one line of text (hand-assembled so byte offsets are exact). */
export function demoPdf(text: string): Buffer {
    const safe = text.replace(/[()\\]/g, '');
    const stream = `BT /F1 18 Tf 72 760 Td (${safe}) Tj ET`;
    const objects = [
        '<< /Type /Catalog /Pages 2 0 R >>',
        '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
        '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
        `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
        '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
    ];
    let pdf = '%PDF-1.4\n';
    const offsets: number[] = [];
    objects.forEach((body, i) => {
        offsets.push(pdf.length);
        pdf += `${i + 1} 0 obj\n${body}\nendobj\n`;
    });
    const xref = pdf.length;
    pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
    pdf += offsets.map((offset) => `${String(offset).padStart(10, '0')} 00000 n \n`).join('');
    pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
    return Buffer.from(pdf, 'latin1');
}
