/**
 * The whole database schema, one section per capability. `npm run db:generate` turns changes here into a
 * numbered SQL migration under `drizzle/`; migrations run at start and with `npm run migrate`.
 * Every table that holds tenant data carries `tenant_id`.
 */
export * from '../tenants/schema';
export * from '../lti/schema';
export * from '../canvas/schema';
export * from '../catalog/schema';
export * from '../badges/schema';
export * from '../progress/schema';
export * from '../review/schema';
export * from '../awards/schema';
export * from '../privacy/schema';
