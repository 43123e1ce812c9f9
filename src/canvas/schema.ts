import { sql } from 'drizzle-orm';
import { pgTable, uuid, text, timestamp, primaryKey, index } from 'drizzle-orm/pg-core';
import { tenants, users } from '../tenants/schema';

/**
 * Canvas REST credentials. Every secret column holds `crypto/secrets` output (sealed with an AAD naming the
 * column and the row); nothing here is ever stored or logged in clear.
 */

/** Per tenant: the Canvas API developer key (OAuth2, not the LTI key) and an optional admin-set service token. */
export const canvasCredentials = pgTable('canvas_credentials', {
  tenantId: uuid('tenant_id').primaryKey().references(() => tenants.id, { onDelete: 'cascade' }),
  clientId: text('client_id'),
  clientSecretSealed: text('client_secret_sealed'),
  serviceTokenSealed: text('service_token_sealed'),
  /** Who the service token acts as in Canvas (from users/self when it was set), for the admin page. */
  serviceTokenUser: text('service_token_user'),
  serviceTokenSetBy: uuid('service_token_set_by').references(() => users.id, { onDelete: 'set null' }),
  serviceTokenSetAt: timestamp('service_token_set_at', { withTimezone: true }),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Per user: the token pair from the OAuth2 developer-key flow. Canvas refreshes return no new refresh token. */
export const canvasUserTokens = pgTable(
  'canvas_user_tokens',
  {
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    userId: uuid('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    /** The developer key that issued the tokens: a new key makes them useless. */
    clientId: text('client_id').notNull(),
    canvasUserId: text('canvas_user_id'),
    accessTokenSealed: text('access_token_sealed').notNull(),
    refreshTokenSealed: text('refresh_token_sealed'),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    scopes: text('scopes').array().notNull().default(sql`'{}'::text[]`),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.userId] })],
);

/** OAuth2 `state`: random, single use, 10 minutes, bound to the tenant, user and session that started it. */
export const canvasOauthStates = pgTable(
  'canvas_oauth_states',
  {
    /** sha256 of the state value: the value itself only travels through the browser. */
    stateHash: text('state_hash').primaryKey(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    userId: uuid('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    sessionHash: text('session_hash').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('canvas_oauth_states_expires').on(t.expiresAt)],
);

export type CanvasCredentials = typeof canvasCredentials.$inferSelect;
export type CanvasUserToken = typeof canvasUserTokens.$inferSelect;
