import { sql } from 'drizzle-orm';
import { pgTable, uuid, text, timestamp, integer, jsonb, boolean, uniqueIndex, index, check } from 'drizzle-orm/pg-core';
import { tenants, users } from '../tenants/schema';
import { microCredentialVersions, stacks } from '../catalog/schema';

/**
 * A tenant's Ed25519 issuer keys. The newest row is the signing key; older rows stay in the DID document so
 * credentials signed before a rotation keep verifying. The 32-byte seed is sealed with src/crypto/secrets.ts
 * (AAD: `badges.issuer_key|<tenant>|<key number>`), so a copied row cannot be opened as another key.
 */
export const issuerKeys = pgTable(
  'issuer_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    /** 1, 2, …: the DID URL fragment is `#key-<number>`. */
    keyNumber: integer('key_number').notNull(),
    publicKeyMultibase: text('public_key_multibase').notNull(),
    sealedSeed: text('sealed_seed').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    /** Set when a newer key took over signing; the key still verifies what it signed. */
    retiredAt: timestamp('retired_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('issuer_keys_tenant_number').on(t.tenantId, t.keyNumber)],
);

/**
 * One BitstringStatusList per (tenant, list number). `allocated` counts the indexes handed out; a list takes at
 * most `capacity` entries (a quarter of its `length`, so random indexes rarely collide and a revoked bit hides
 * in a crowd). The signed list credential is cached in `signed_json` and re-signed on every revocation.
 */
export const statusLists = pgTable(
  'status_lists',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    listNumber: integer('list_number').notNull(),
    statusPurpose: text('status_purpose', { enum: ['revocation'] }).notNull().default('revocation'),
    length: integer('length').notNull(),
    capacity: integer('capacity').notNull(),
    allocated: integer('allocated').notNull().default(0),
    signedJson: jsonb('signed_json').$type<Record<string, unknown>>(),
    signedAt: timestamp('signed_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('status_lists_tenant_number').on(t.tenantId, t.listNumber), check('status_lists_allocated', sql`${t.allocated} <= ${t.capacity} AND ${t.capacity} <= ${t.length}`)],
);

/**
 * Every Open Badges 3.0 credential microcred signed, as signed. Either a micro-credential version or a stack is
 * the achievement. `(tenant, status list, index)` is unique: that is what makes index allocation safe under
 * concurrency (a losing insert picks another index).
 */
export const issuedCredentials = pgTable(
  'issued_credentials',
  {
    /** The uuid in the credential's id `{PUBLIC_URL}/credentials/<id>`. */
    id: uuid('id').primaryKey(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    earnerUserId: uuid('earner_user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    versionId: uuid('version_id').references(() => microCredentialVersions.id, { onDelete: 'no action' }),
    stackId: uuid('stack_id').references(() => stacks.id, { onDelete: 'no action' }),
    /** The award that caused it (the award command fills it); unique, so a retried award gets the same credential. */
    awardId: uuid('award_id'),
    credential: jsonb('credential').$type<Record<string, unknown>>().notNull(),
    statusListId: uuid('status_list_id')
      .notNull()
      .references(() => statusLists.id, { onDelete: 'no action' }),
    statusIndex: integer('status_index').notNull(),
    /** Whether the earner chose to be named in public (page and credential). */
    showName: boolean('show_name').notNull().default(false),
    validFrom: timestamp('valid_from', { withTimezone: true }).notNull(),
    validUntil: timestamp('valid_until', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    revocationReason: text('revocation_reason'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('issued_credentials_status_slot').on(t.tenantId, t.statusListId, t.statusIndex),
    uniqueIndex('issued_credentials_award').on(t.awardId),
    index('issued_credentials_earner').on(t.tenantId, t.earnerUserId),
    check('issued_credentials_achievement', sql`(${t.versionId} IS NULL) <> (${t.stackId} IS NULL)`),
  ],
);

export type IssuerKeyRow = typeof issuerKeys.$inferSelect;
export type StatusListRow = typeof statusLists.$inferSelect;
export type IssuedCredentialRow = typeof issuedCredentials.$inferSelect;
