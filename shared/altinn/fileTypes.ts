/**
 * File name extensions for the content types this system uploads, as Altinn apps check them:
 * app-lib's DataRestrictionValidation requires the upload's file name to have an extension and,
 * for a data type that restricts content types, the Content-Type to be what app-lib's MimeTypeMap
 * (src/Altinn.App.Core/Helpers/MimeTypeMap.cs) gives for that extension. Each entry here is one
 * of those pairs, so that a file name built from it always passes.
 */
const extensions: Record<string, string> = {
    'application/xml': 'xml',
    'text/xml': 'xml',
    'application/json': 'json',
    'application/pdf': 'pdf',
    'text/plain': 'txt',
    'text/csv': 'csv',
    'text/html': 'html',
};

/** The content types {@link fileExtension} knows. */
export const knownContentTypes: readonly string[] = Object.keys(extensions);

/** The extension (without the dot) app-lib maps to this content type; undefined for one it does not know here. */
export function fileExtension(contentType: string): string | undefined {
    return extensions[contentType.trim().toLowerCase()];
}

/** The content type for a file name's extension (the first of the pairs above: .xml is application/xml); undefined for others. */
export function contentTypeOfFile(fileName: string): string | undefined {
    const extension = /\.([^./\\]+)$/.exec(fileName)?.[1]?.toLowerCase();
    return Object.keys(extensions).find((type) => extensions[type] === extension);
}
