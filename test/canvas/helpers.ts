import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { createSandbox, generateScenario, loadScenario, type Sandbox, type SandboxOptions } from '../../src/sandbox';
import { CanvasClient, staticToken, type CanvasClientOptions } from '../../src/canvas/client';

export const TECH_LEADER = loadScenario(path.resolve(__dirname, '../../config/scenarios/tech-leader-1.json'));

/** A sandbox on an ephemeral port, for client-only tests. */
export async function startSandbox(o: Partial<SandboxOptions> & { generated?: { educators: number; modules: number } } = {}): Promise<{ sb: Sandbox; close(): Promise<void> }> {
  const scenario = o.generated ? generateScenario(o.generated) : (o.scenario ?? TECH_LEADER);
  const sb = createSandbox({ baseUrl: 'http://127.0.0.1:0', ...o, scenario });
  const server = await sb.listen(0);
  return { sb, close: () => server.close() };
}

/** A client with a user token issued by the sandbox, and fast backoff so retries do not slow the suite. */
export function clientFor(sb: Sandbox, userId: number | string, o: Partial<CanvasClientOptions> = {}): { client: CanvasClient; token: string } {
  const t = sb.issueUserToken({ userId });
  const client = new CanvasClient({
    baseUrl: sb.baseUrl,
    tokens: staticToken(t.accessToken, `test:${userId}`),
    timeoutMs: 2000,
    backoff: { baseMs: 5, capMs: 50, throttleBaseMs: 20, throttleCapMs: 400 },
    ...o,
  });
  return { client, token: t.accessToken };
}

/** A pino logger at trace level writing to memory: what would reach the log, to search for secrets. */
export function captureLog(): { log: pino.Logger; lines: string[]; text(): string } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  const log = pino({ level: 'trace' }, stream);
  return { log, lines, text: () => lines.join('') };
}
