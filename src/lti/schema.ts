import { sql } from 'drizzle-orm';
import { pgTable, uuid, text, timestamp, jsonb, bigserial, index, uniqueIndex, type AnyPgColumn } from 'drizzle-orm/pg-core';
import { tenants, users, courses } from '../tenants/schema';

/**
 * ltijs's nine collections, each a JSONB document table (see ltijsStore.ts). `expires_at` implements the
 * TTLs ltijs expects from MongoDB; the unique indexes are MongoDB's.
 */
function ltijsTable(name: string, unique: string[][] = [], ttl = false) {
  return pgTable(
    `ltijs_${name.toLowerCase()}`,
    {
      id: bigserial('id', { mode: 'number' }).primaryKey(),
      doc: jsonb('doc').notNull(),
      createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
      expiresAt: timestamp('expires_at', { withTimezone: true }),
    },
    (t) => [
      index(`ltijs_${name.toLowerCase()}_doc`).using('gin', sql`${t.doc} jsonb_path_ops`),
      ...(ttl ? [index(`ltijs_${name.toLowerCase()}_exp`).on(t.expiresAt)] : []),
      ...unique.map((cols) =>
        uniqueIndex(`ltijs_${name.toLowerCase()}_u_${cols.join('_').toLowerCase()}`).on(
          ...(cols.map((c) => sql`(${t.doc} ->> ${sql.raw(`'${c}'`)})`) as unknown as [AnyPgColumn]),
        ),
      ),
    ],
  );
}

export const ltijsIdtoken = ltijsTable('idtoken', [], true);
export const ltijsContexttoken = ltijsTable('contexttoken', [], true);
export const ltijsPlatform = ltijsTable('platform', [['kid'], ['platformUrl', 'clientId']]);
export const ltijsPlatformStatus = ltijsTable('platformStatus', [['id']]);
export const ltijsPrivatekey = ltijsTable('privatekey', [['kid']]);
export const ltijsPublickey = ltijsTable('publickey', [['kid']]);
export const ltijsAccesstoken = ltijsTable('accesstoken', [['platformUrl', 'clientId', 'scopes']], true);
export const ltijsNonce = ltijsTable('nonce', [['nonce']], true);
export const ltijsState = ltijsTable('state', [['state']], true);

/**
 * One row per OIDC login initiation. The nonce is bound to the state, and the row is consumed exactly
 * once by the launch that answers it: this closes nonce replay and state replay whatever ltijs keeps.
 */
export const ltiLogins = pgTable(
  'lti_logins',
  {
    state: text('state').primaryKey(),
    nonce: text('nonce').notNull(),
    issuer: text('issuer').notNull(),
    clientId: text('client_id').notNull(),
    platformKid: text('platform_kid').notNull(),
    loginHint: text('login_hint').notNull(),
    messageHint: text('message_hint'),
    deploymentHint: text('deployment_hint'),
    targetLinkUri: text('target_link_uri').notNull(),
    /** Canvas's `lti_storage_target` when the platform offers LTI Platform Storage. */
    storageTarget: text('storage_target'),
    /** sha256 of the value put in platform storage, for launches whose cookies were blocked. */
    storageProofHash: text('storage_proof_hash'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    usedAt: timestamp('used_at', { withTimezone: true }),
  },
  (t) => [index('lti_logins_created').on(t.createdAt)],
);

/**
 * microcred's own session after a launch: an opaque random token (only its sha256 is stored) carried in
 * the URL path, so pages work in the Canvas iframe with third-party cookies blocked.
 */
export const sessions = pgTable(
  'sessions',
  {
    tokenHash: text('token_hash').primaryKey(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    userId: uuid('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    courseId: uuid('course_id').references((): AnyPgColumn => courses.id, { onDelete: 'cascade' }),
    ltiRoles: text('lti_roles').array().notNull(),
    /** What the launch said that later pages need: message type, resource link, custom, AGS/NRPS endpoints, deep linking settings. */
    launch: jsonb('launch').notNull(),
    csrfSecret: text('csrf_secret').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('sessions_expires').on(t.expiresAt), index('sessions_user').on(t.tenantId, t.userId)],
);

export type LtiLogin = typeof ltiLogins.$inferSelect;
export type SessionRow = typeof sessions.$inferSelect;

