import { type IncomingHttpHeaders } from 'node:http';
import { filenameFromContentDisposition } from './http';
import { type DataTypeRecord } from './state';

/*
 * app-lib-dotnet src/Altinn.App.Api/Helpers/RequestHandling/DataRestrictionValidation.cs
 * (CompliesWithDataRestrictions), which DataController.PostImpl runs for a data type without
 * appLogic.classRef: a Content-Disposition with a file name that has an extension, and, when the data
 * type lists allowedContentTypes, a Content-Type that is the extension's mime type (or
 * application/octet-stream) and one of the allowed types. The texts are app-lib's.
 */

const ERROR = 'Invalid data provided. Error:';

/**
 * The part of app-lib's MimeTypeMap (src/Altinn.App.Core/Helpers/MimeTypeMap.cs, extension lookup
 * case-insensitive, unknown → application/octet-stream) for the extensions a feedback or attachment
 * commonly has; `.xml` is application/xml with the alias text/xml there too.
 */
const mimeTypes: Record<string, string[]> = {
    '.xml': ['application/xml', 'text/xml'],
    '.json': ['application/json'],
    '.pdf': ['application/pdf'],
    '.txt': ['text/plain'],
    '.csv': ['text/csv'],
    '.htm': ['text/html'],
    '.html': ['text/html'],
    '.xsd': ['text/xml'],
    '.zip': ['application/x-zip-compressed'],
    '.png': ['image/png'],
    '.jpg': ['image/jpeg'],
};

function mimeTypeOf(extension: string): string[] {
    return mimeTypes[extension.toLowerCase()] ?? ['application/octet-stream'];
}

/** The first rule the request breaks, in app-lib's order, as its description; undefined when it complies. */
export function dataRestrictionError(headers: IncomingHttpHeaders, dataType: DataTypeRecord): string | undefined {
    const disposition = headers['content-disposition'];
    if (disposition === undefined) {
        return `${ERROR} The request must include a Content-Disposition header`;
    }
    const filename = filenameFromContentDisposition(disposition)?.replace(/^"|"$/g, '');
    if (!filename) {
        return `${ERROR} The Content-Disposition header must contain a valid filename`;
    }
    if (filename.split('.').length < 2) {
        return `${ERROR} Invalid format for filename: ${filename}. Filename is expected to end with '.{filetype}'.`;
    }
    const allowed = dataType.allowedContentTypes ?? [];
    if (allowed.length === 0) {
        return undefined;
    }
    // Path.GetExtension: from the last dot on.
    const mimeType = mimeTypeOf(filename.slice(filename.lastIndexOf('.')));
    const contentType = headers['content-type'];
    if (contentType === undefined) {
        return `${ERROR} Content-Type header must be included in request.`;
    }
    // The whole header value is compared (a "; charset=" parameter does not match).
    const matches = mimeType.some((type) => type.toLowerCase() === contentType.toLowerCase());
    if (contentType !== 'application/octet-stream' && !matches) {
        return `${ERROR} Content type header ${contentType} does not match mime type ${mimeType[0]} for uploaded file. Please fix header or upload another file.`;
    }
    const permitted = allowed.some((type) => type.toLowerCase() === contentType.toLowerCase());
    if (!permitted && !allowed.includes('application/octet-stream')) {
        return `${ERROR} Invalid content type: ${mimeType[0]}. Please try another file. Permitted content types include: ${allowed.join(', ')}`;
    }
    return undefined;
}
