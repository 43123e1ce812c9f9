import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * `multipart/form-data` for the two forms that upload a badge image without JavaScript, with no new dependency:
 * the body is read (at most `limit` bytes) and handed to the WHATWG `Request#formData()` that Node ships. Text
 * fields become `req.body` (so the route table's CSRF check reads `_csrf` as usual); files are kept beside the
 * request. A body over the limit is not an error here: the page says "at most 1 MB" on the field.
 */

export interface Upload { name: string; type: string; bytes: Buffer }
export interface Uploads { files: Record<string, Upload>; tooLarge: boolean }

const uploads = new WeakMap<Request, Uploads>();

export function uploadsOf(req: Request): Uploads {
  return uploads.get(req) ?? { files: {}, tooLarge: false };
}

/** 1 MB of image plus the form's other fields and multipart framing. */
export const MULTIPART_LIMIT = 1024 * 1024 + 64 * 1024;

export function multipartForms(limit = MULTIPART_LIMIT): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    const type = req.get('content-type') ?? '';
    if (req.method !== 'POST' || !type.toLowerCase().startsWith('multipart/form-data')) return next();
    void readBody(req, limit)
      .then(async ({ bytes, tooLarge }) => {
        const body: Record<string, string> = {};
        const files: Record<string, Upload> = {};
        if (!tooLarge) {
          const form = await new Request('http://microcred.invalid/', { method: 'POST', headers: { 'content-type': type }, body: new Uint8Array(bytes) }).formData();
          const parts: [string, FormDataEntryValue][] = [];
          form.forEach((value, name) => parts.push([name, value]));
          for (const [name, value] of parts) {
            if (typeof value === 'string') body[name] ??= value;
            else if (value.size > 0) files[name] = { name: value.name, type: value.type, bytes: Buffer.from(await value.arrayBuffer()) };
          }
        } else {
          // The CSRF token is a short field near the start; find it without parsing the whole (refused) body.
          const m = /name="_csrf"\r\n\r\n([A-Za-z0-9_-]{1,200})\r\n/.exec(bytes.toString('latin1'));
          if (m) body._csrf = m[1]!;
        }
        req.body = body;
        uploads.set(req, { files, tooLarge });
        next();
      })
      .catch((err: unknown) => next(err));
  };
}

/** Reads up to `limit` bytes; past it keeps only the start (for the CSRF field) and drains the rest. */
function readBody(req: Request, limit: number): Promise<{ bytes: Buffer; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      else chunks.push(chunk);
      // Far past the limit is no mistaken file: stop reading.
      if (size > limit * 8) req.destroy();
    });
    req.on('end', () => resolve({ bytes: Buffer.concat(chunks), tooLarge }));
    req.on('error', reject);
    req.on('close', () => resolve({ bytes: Buffer.concat(chunks), tooLarge }));
  });
}
