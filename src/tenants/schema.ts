import { sql } from 'drizzle-orm';
import { pgTable, uuid, text, timestamp, uniqueIndex, index, primaryKey } from 'drizzle-orm/pg-core';

/**
 * A tenant is one Canvas deployment of the tool: (issuer, client_id, deployment_id). Canvas uses one
 * issuer for all of hosted Canvas, so the client_id (the developer key) tells institutions apart, and the
 * deployment id tells installs apart.
 */
export const tenants = pgTable(
  'tenants',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    issuer: text('issuer').notNull(),
    clientId: text('client_id').notNull(),
    deploymentId: text('deployment_id').notNull(),
    /** ltijs's id (kid) of the platform registration this deployment belongs to. */
    platformKid: text('platform_kid').notNull(),
    name: text('name').notNull(),
    /** https://school.instructure.com, learnt from the launch's `$Canvas.api.baseUrl`. */
    canvasBaseUrl: text('canvas_base_url'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('tenants_lti_key').on(t.issuer, t.clientId, t.deploymentId)],
);

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    /** The LTI `sub`: stable per user and platform; never the email. */
    ltiSub: text('lti_sub').notNull(),
    canvasUserId: text('canvas_user_id'),
    name: text('name'),
    email: text('email'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('users_tenant_sub').on(t.tenantId, t.ltiSub), index('users_tenant_canvas').on(t.tenantId, t.canvasUserId)],
);

export const courses = pgTable(
  'courses',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    /** The LTI context id (opaque). */
    ltiContextId: text('lti_context_id').notNull(),
    canvasCourseId: text('canvas_course_id'),
    title: text('title').notNull(),
    label: text('label'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('courses_tenant_context').on(t.tenantId, t.ltiContextId)],
);

/** What Canvas last told us about a user's roles in a course (from launches and rosters). */
export const memberships = pgTable(
  'memberships',
  {
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    courseId: uuid('course_id').notNull().references(() => courses.id, { onDelete: 'cascade' }),
    userId: uuid('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    ltiRoles: text('lti_roles').array().notNull().default(sql`'{}'::text[]`),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.courseId, t.userId] }), index('memberships_tenant_user').on(t.tenantId, t.userId)],
);

/**
 * Roles microcred grants on top of Canvas's: a reviewer (course-wide, or district-wide when course_id is
 * null), a recognizer (reads reports), an admin.
 */
export const roleGrants = pgTable(
  'role_grants',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    userId: uuid('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    role: text('role', { enum: ['reviewer', 'recognizer', 'admin'] }).notNull(),
    courseId: uuid('course_id').references(() => courses.id, { onDelete: 'cascade' }),
    grantedBy: uuid('granted_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('role_grants_user').on(t.tenantId, t.userId)],
);

export type Tenant = typeof tenants.$inferSelect;
export type User = typeof users.$inferSelect;
export type Course = typeof courses.$inferSelect;
export type RoleGrant = typeof roleGrants.$inferSelect;
