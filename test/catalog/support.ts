import zlib from 'node:zlib';
import { USER_AGENT } from '../../src/canvas/userAgent';
import type { CanvasAssignment, CanvasModule, CourseReaderFactory } from '../../src/catalog/canvasReader';
import { crc32 } from '../../src/catalog/images';
import { loadStarterCatalog } from '../../src/catalog/commands/starter';
import type { CredentialDefinition } from '../../src/catalog/model';
import { sessionOf } from '../support/session';
import type { Stack } from '../support/stack';

/**
 * The catalog's CanvasCourseReader over the sandbox's real REST API, as the person in the session (an OAuth2
 * user token the sandbox issues directly), with a User-Agent and Link pagination like the real client.
 */
export function sandboxCourseReader(stack: Stack): CourseReaderFactory {
  return (ctx) => {
    const { accessToken } = stack.sandbox.issueUserToken({ userId: ctx.user.canvasUserId! });
    const getAll = async (path: string): Promise<Record<string, unknown>[]> => {
      const out: Record<string, unknown>[] = [];
      let url: string | undefined = `${stack.sandboxUrl}${path}`;
      while (url) {
        const res: Response = await fetch(url, { headers: { Authorization: `Bearer ${accessToken}`, 'User-Agent': USER_AGENT, Accept: 'application/json' } });
        if (!res.ok) throw new Error(`sandbox ${path}: ${res.status}`);
        out.push(...((await res.json()) as Record<string, unknown>[]));
        url = /<([^>]+)>; rel="next"/.exec(res.headers.get('link') ?? '')?.[1];
      }
      return out;
    };
    return {
      listModules: async (courseId): Promise<CanvasModule[]> => (await getAll(`/api/v1/courses/${courseId}/modules?per_page=50`)).map((m) => ({ id: String(m.id), name: String(m.name), published: m.published === true })),
      listAssignments: async (courseId): Promise<CanvasAssignment[]> =>
        (await getAll(`/api/v1/courses/${courseId}/assignments?per_page=50`)).map((a) => ({ id: String(a.id), name: String(a.name), published: a.published === true, rubric: a.rubric as CanvasAssignment['rubric'] })),
    };
  };
}

export type Api = ReturnType<typeof sessionOf>;

/** Launches a sandbox user (in course 101 unless told) and returns their API session. */
export async function apiAs(stack: Stack, userId: string, courseId = '101'): Promise<Api> {
  const { page } = await stack.launch(userId, { courseId });
  return sessionOf(page);
}

export async function body<T = Record<string, unknown>>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

/** Tech Leader I from the starter catalog: a full, realistic definition to start from. */
export function techLeaderI(overrides: Partial<CredentialDefinition> = {}): CredentialDefinition {
  return { ...structuredClone(loadStarterCatalog().credentials[0]!.definition), ...overrides };
}

/** A tiny but real PNG (width × height, one colour), built chunk by chunk. */
export function png(width = 2, height = 2): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(width * 4, 0x7f)]);
  const raw = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/**
 * Stops a stack after removing its tenant (and so, by cascade, its whole catalog): test files share one database,
 * and a tenant left behind changes what later files see (every tenant's Canvas is a known frame ancestor).
 */
export async function forgetAndStop(stack: Stack): Promise<void> {
  await stack.tool.app.repos.tenants.removePlatform(stack.sandbox.issuer, stack.clientId);
  await stack.stop();
}
