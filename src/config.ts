import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { z } from 'zod';

/**
 * Typed configuration read once from the environment. Every variable is listed, with a comment,
 * in `.env.example`; an invalid value stops start-up with a message naming the variable.
 */
const Env = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  PUBLIC_URL: z.url().optional(),
  DATABASE_URL: z.string().optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  /** A server that runs one session at a time (PGlite behind a socket): work inside a transaction stays in it. */
  DATABASE_SINGLE_SESSION: z.enum(['on', 'off']).default('off'),
  DATA_DIR: z.string().default('./data'),
  SECRET_KEY: z.string().min(32, 'SECRET_KEY must be at least 32 characters').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LTI_TOKEN_MAX_AGE: z.coerce.number().int().min(5).max(3600).default(60),
  SESSION_TTL_MINUTES: z.coerce.number().int().min(5).max(24 * 60).default(8 * 60),
  TRUST_PROXY: z.string().default('loopback'),
  SANDBOX: z.enum(['on', 'off']).default('off'),
  REGISTRATION_AUTO_ACTIVATE: z.enum(['on', 'off']).optional(),
  JOB_WORKERS: z.enum(['on', 'off']).default('on'),
  JOB_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'JOB_SCHEMA must be a lower-case SQL identifier').default('pgboss'),
  SANDBOX_PORT: z.coerce.number().int().min(0).max(65535).default(3001),
  PROGRESS_SYNC_INTERVAL_MINUTES: z.coerce.number().int().min(0).max(24 * 60).default(15),
  EVIDENCE_RETENTION_DAYS: z.coerce.number().int().min(0).max(36500).default(365),
  CANVAS_LIVE_EVENTS_JWKS_URL: z.url().default('https://8axpcl50e4.execute-api.us-east-1.amazonaws.com/main/jwks'),
});

export type Config = {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  /** Where Canvas reaches the tool, without a trailing slash. */
  publicUrl: string;
  database: { url?: string; poolMax: number; pgliteDir: string; singleSession: boolean };
  dataDir: string;
  /** Root secret: signs ltiks and cookies, and derives the keys that encrypt secrets at rest. */
  secretKey: string;
  logLevel: string;
  ltiTokenMaxAgeSeconds: number;
  sessionTtlMinutes: number;
  trustProxy: string;
  sandbox: { enabled: boolean; port: number };
  /** Dynamic registrations start active (development) or wait for `npm run platform -- activate` (production). */
  registrationAutoActivate: boolean;
  /** docs/progress.md: how often every course is synced with Canvas (0 = never on a schedule), and where Live Events keys are. */
  progress: { syncIntervalMinutes: number; liveEventsJwksUrl: string };
  /** docs/privacy.md: days after the decision that evidence files are kept (0 = kept until someone deletes them). */
  privacy: { evidenceRetentionDays: number };
  /** Whether this instance works background jobs (web-only instances set off), and pg-boss's schema. */
  jobs: { workers: boolean; schema: string };
};

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.DATA_DIR);
  const publicUrl = (e.PUBLIC_URL ?? `http://127.0.0.1:${e.PORT}`).replace(/\/+$/, '');
  if (e.NODE_ENV === 'production') {
    if (!e.SECRET_KEY) throw new Error('Invalid configuration:\n  SECRET_KEY: required in production');
    if (!e.PUBLIC_URL?.startsWith('https://')) throw new Error('Invalid configuration:\n  PUBLIC_URL: an https:// URL is required in production');
    if (e.SANDBOX === 'on') throw new Error('Invalid configuration:\n  SANDBOX: the Canvas sandbox is never mounted in production');
  }
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    publicUrl,
    database: { url: e.DATABASE_URL || undefined, poolMax: e.DATABASE_POOL_MAX, pgliteDir: path.join(dataDir, 'pglite'), singleSession: e.DATABASE_SINGLE_SESSION === 'on' },
    dataDir,
    secretKey: e.SECRET_KEY ?? localSecret(dataDir),
    logLevel: e.LOG_LEVEL,
    ltiTokenMaxAgeSeconds: e.LTI_TOKEN_MAX_AGE,
    sessionTtlMinutes: e.SESSION_TTL_MINUTES,
    trustProxy: e.TRUST_PROXY,
    sandbox: { enabled: e.SANDBOX === 'on', port: e.SANDBOX_PORT },
    jobs: { workers: e.JOB_WORKERS === 'on', schema: e.JOB_SCHEMA },
    registrationAutoActivate: (e.REGISTRATION_AUTO_ACTIVATE ?? (e.NODE_ENV === 'production' ? 'off' : 'on')) === 'on',
    privacy: { evidenceRetentionDays: e.EVIDENCE_RETENTION_DAYS },
    progress: { syncIntervalMinutes: e.PROGRESS_SYNC_INTERVAL_MINUTES, liveEventsJwksUrl: e.CANVAS_LIVE_EVENTS_JWKS_URL },
  };
}

/**
 * Outside production a missing SECRET_KEY is generated once and kept in the data directory, so that
 * `npm start` works on a fresh machine and restarts keep sessions and encrypted rows readable.
 */
function localSecret(dataDir: string): string {
  const file = path.join(dataDir, 'secret.key');
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    fs.mkdirSync(dataDir, { recursive: true });
    const secret = crypto.randomBytes(32).toString('base64url');
    fs.writeFileSync(file, secret + '\n', { mode: 0o600 });
    return secret;
  }
}
