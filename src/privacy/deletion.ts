import { isUuid } from '../catalog/repository';
import crypto from 'node:crypto';
import type { Database, SqlClient } from '../db/database';
import type { Badges } from '../badges/service';
import { logger } from '../log';
import { InvalidInputError, NotFoundError } from '../web/errors';

/**
 * Deleting one person's data at their request (docs/privacy.md). Everything that is about them goes: identities,
 * sessions, tokens, preferences, progress, evidence snapshots and files, awards and the CEU ledger (they cascade
 * with the user row), ltijs's copies of their id_token, queued jobs about them.
 *
 * Three things are kept, without anything that says who they were:
 * - issued credentials are REVOKED ("deleted at the educator's request") and kept, so a verifier holding a copy
 *   sees "revoked" (the status list is rebuilt from these rows: a deleted row would un-revoke its bit). The stored
 *   copy loses the earner's identifiers, evidence and narrative (and so its now-invalid proof).
 * - review items and reviews keep their scores and decisions for agreement statistics, with feedback and comments
 *   blanked, their evidence gone, and the educator replaced by an anonymous placeholder user.
 * - the review audit keeps who looked at what and when (other people's actions), without file names.
 * The placeholder is a fresh `users` row (`lti_sub` `deleted:<random>`, no name, email or Canvas id), one per
 * deletion; the person's own user id, Canvas id, LTI sub, name and email appear nowhere afterwards.
 */

export const REVOCATION_REASON = "deleted at the educator's request";

export interface Person {
  key: string;
  userIds: string[];
  canvasUserIds: string[];
  ltiSubs: string[];
  names: string[];
}

export interface PersonSummary {
  key: string;
  name: string;
  canvasUserId: string | null;
  launched: boolean;
  counts: { courses: number; progress: number; snapshots: number; files: number; reviewItems: number; awards: number; credentials: number };
}

export interface DeletionResult {
  placeholderId: string;
  revoked: number;
  removed: Record<string, number>;
}

export interface DeletionDeps {
  db: Database;
  badges: Badges;
  /** pg-boss's schema (config.jobs.schema): queued jobs about the person are removed too. */
  jobSchema: string;
}

const CANVAS_ID = /^[A-Za-z0-9_:.-]{1,64}$/;

/** A person is named by their microcred user id (launched), or by their Canvas user id (known from a roster only). */
export async function findPerson(sql: SqlClient, tenantId: string, key: string): Promise<Person> {
  if (!isUuid(key) && !CANVAS_ID.test(key)) throw new NotFoundError('person');
  const byUser = isUuid(key);
  const users = (
    await sql.query<{ id: string; canvas_user_id: string | null; lti_sub: string; name: string | null }>(
      byUser
        ? 'SELECT id, canvas_user_id, lti_sub, name FROM users WHERE tenant_id = $1 AND id = $2::uuid'
        : `SELECT id, canvas_user_id, lti_sub, name FROM users WHERE tenant_id = $1 AND (canvas_user_id = $2
             OR id IN (SELECT user_id FROM canvas_identities WHERE tenant_id = $1 AND canvas_user_id = $2 AND user_id IS NOT NULL)
             OR lti_sub IN (SELECT lti_sub FROM canvas_identities WHERE tenant_id = $1 AND canvas_user_id = $2 AND lti_sub IS NOT NULL))`,
      [tenantId, key],
    )
  ).rows.filter((u) => !u.lti_sub.startsWith('deleted:'));
  const userIds = users.map((u) => u.id);
  const canvasUserIds = new Set<string>(users.map((u) => u.canvas_user_id).filter((x): x is string => !!x));
  if (!byUser) canvasUserIds.add(key);
  const ids = (
    await sql.query<{ canvas_user_id: string; lti_sub: string | null; name: string | null }>(
      'SELECT canvas_user_id, lti_sub, name FROM canvas_identities WHERE tenant_id = $1 AND (user_id = ANY($2::uuid[]) OR canvas_user_id = ANY($3::text[]))',
      [tenantId, userIds, [...canvasUserIds]],
    )
  ).rows;
  for (const i of ids) canvasUserIds.add(i.canvas_user_id);
  if (!userIds.length && !ids.length) {
    const known = await sql.query('SELECT 1 FROM progress_roster WHERE tenant_id = $1 AND canvas_user_id = ANY($2::text[]) LIMIT 1', [tenantId, [...canvasUserIds]]);
    if (!known.rows.length) throw new NotFoundError('person');
  }
  const ltiSubs = [...new Set([...users.map((u) => u.lti_sub), ...ids.map((i) => i.lti_sub).filter((x): x is string => !!x)])];
  const names = [...new Set([...users.map((u) => u.name), ...ids.map((i) => i.name)].filter((x): x is string => !!x && x.trim().length > 2))];
  return { key, userIds, canvasUserIds: [...canvasUserIds], ltiSubs, names };
}

/** What the confirmation page shows: how much will go. */
export async function summarize(sql: SqlClient, tenantId: string, p: Person): Promise<PersonSummary> {
  const [row] = (
    await sql.query<Record<string, string>>(
      `SELECT
        (SELECT count(*) FROM memberships WHERE tenant_id = $1 AND user_id = ANY($2::uuid[])) AS courses,
        (SELECT count(*) FROM credential_progress WHERE tenant_id = $1 AND canvas_user_id = ANY($3::text[])) AS progress,
        (SELECT count(*) FROM evidence_snapshots WHERE tenant_id = $1 AND canvas_user_id = ANY($3::text[])) AS snapshots,
        (SELECT count(*) FROM evidence_files f JOIN evidence_snapshots s ON s.id = f.snapshot_id WHERE s.tenant_id = $1 AND s.canvas_user_id = ANY($3::text[])) AS files,
        (SELECT count(*) FROM review_items WHERE tenant_id = $1 AND earner_id = ANY($2::uuid[])) AS review_items,
        (SELECT count(*) FROM awards WHERE tenant_id = $1 AND earner_id = ANY($2::uuid[])) AS awards,
        (SELECT count(*) FROM issued_credentials WHERE tenant_id = $1 AND earner_user_id = ANY($2::uuid[])) AS credentials`,
      [tenantId, p.userIds, p.canvasUserIds],
    )
  ).rows;
  const n = (k: string) => Number(row?.[k] ?? 0);
  return {
    key: p.key,
    name: p.names[0] ?? 'Unnamed educator',
    canvasUserId: p.canvasUserIds[0] ?? null,
    launched: p.userIds.length > 0,
    counts: { courses: n('courses'), progress: n('progress'), snapshots: n('snapshots'), files: n('files'), reviewItems: n('review_items'), awards: n('awards'), credentials: n('credentials') },
  };
}

/** The people of a tenant an admin may pick from: launched users and roster-only educators, by name. */
export async function listPeople(sql: SqlClient, tenantId: string, search = ''): Promise<{ key: string; name: string; canvasUserId: string | null; launched: boolean }[]> {
  const like = `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const rows = (
    await sql.query<{ key: string; name: string | null; canvas_user_id: string | null; launched: boolean }>(
      `SELECT u.id::text AS key, u.name, u.canvas_user_id, true AS launched FROM users u
        WHERE u.tenant_id = $1 AND u.lti_sub NOT LIKE 'deleted:%' AND ($2 = '%%' OR u.name ILIKE $2)
       UNION ALL
       SELECT ci.canvas_user_id, ci.name, ci.canvas_user_id, false FROM canvas_identities ci
        WHERE ci.tenant_id = $1 AND ci.user_id IS NULL
          AND NOT EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = $1 AND (u.canvas_user_id = ci.canvas_user_id OR u.lti_sub = ci.lti_sub))
          AND ($2 = '%%' OR ci.name ILIKE $2)
       ORDER BY 2 NULLS LAST, 1 LIMIT 200`,
      [tenantId, like],
    )
  ).rows;
  return rows.map((r) => ({ key: r.key, name: r.name ?? 'Unnamed person', canvasUserId: r.canvas_user_id, launched: r.launched }));
}

/**
 * Deletes the person's data. Credentials are revoked first (each in its own transaction, through the badges
 * service, which re-signs the status list); then everything else goes in one transaction. Running it again after
 * a failure finishes the job: revoking twice keeps the first reason.
 */
export async function deletePerson(deps: DeletionDeps, o: { tenantId: string; actorId: string | null; person: Person }): Promise<DeletionResult> {
  const { tenantId, person: p } = o;
  if (o.actorId && p.userIds.includes(o.actorId)) throw new InvalidInputError('You cannot delete your own data while signed in as yourself. Ask another administrator.');
  const sql = deps.db.sql;
  const toRevoke = (
    await sql.query<{ id: string }>('SELECT id FROM issued_credentials WHERE tenant_id = $1 AND earner_user_id = ANY($2::uuid[]) AND revoked_at IS NULL', [tenantId, p.userIds])
  ).rows;
  for (const c of toRevoke) await deps.badges.revoke(c.id, REVOCATION_REASON, { tenantId });

  const [tenant] = (await sql.query<{ issuer: string; client_id: string; deployment_id: string }>('SELECT issuer, client_id, deployment_id FROM tenants WHERE id = $1', [tenantId])).rows;
  if (!tenant) throw new NotFoundError('district');
  const placeholderId = crypto.randomUUID();
  const removed: Record<string, number> = {};
  const run = async (tx: SqlClient, label: string, text: string, params: unknown[]) => {
    const r = await tx.query(text, params);
    removed[label] = (removed[label] ?? 0) + r.affectedRows;
  };
  const U = p.userIds;
  const C = p.canvasUserIds;

  await sql.transaction(async (tx) => {
    await tx.query(`INSERT INTO users (id, tenant_id, lti_sub) VALUES ($1, $2, $3)`, [placeholderId, tenantId, `deleted:${placeholderId}`]);

    // Credentials: kept revoked, pointed at the placeholder, stripped of who earned them.
    const creds = (await tx.query<{ id: string; credential: Record<string, unknown> }>('SELECT id, credential FROM issued_credentials WHERE tenant_id = $1 AND earner_user_id = ANY($2::uuid[])', [tenantId, U])).rows;
    for (const c of creds) {
      await tx.query('UPDATE issued_credentials SET earner_user_id = $2, show_name = false, credential = $3 WHERE id = $1', [c.id, placeholderId, JSON.stringify(redactCredential(c.credential))]);
    }
    removed.credentialsRedacted = creds.length;

    // Review: the educator's items and the reviews of them stay for agreement statistics, anonymised.
    await run(tx, 'reviewItemsAnonymised', 'UPDATE review_items SET earner_id = $3, updated_at = now() WHERE tenant_id = $1 AND earner_id = ANY($2::uuid[])', [tenantId, U, placeholderId]);
    await run(tx, 'exemplars', 'DELETE FROM review_exemplars WHERE tenant_id = $1 AND item_id IN (SELECT id FROM review_items WHERE tenant_id = $1 AND earner_id = $2)', [tenantId, placeholderId]);
    await run(
      tx,
      'reviewsBlanked',
      `UPDATE reviews SET feedback = '', criterion_comments = '{}'::jsonb, override_comment = NULL WHERE tenant_id = $1 AND item_id IN (SELECT id FROM review_items WHERE tenant_id = $1 AND earner_id = $2)`,
      [tenantId, placeholderId],
    );
    await tx.query(
      `UPDATE review_audit SET detail = detail - 'filename' - 'snapshotId' - 'attachmentId' WHERE tenant_id = $1 AND item_id IN (SELECT id FROM review_items WHERE tenant_id = $1 AND earner_id = $2)`,
      [tenantId, placeholderId],
    );
    // Reviews the person wrote of other educators' work are those educators' records: kept, by the placeholder.
    await run(tx, 'reviewsReattributed', 'UPDATE reviews SET reviewer_id = $3 WHERE tenant_id = $1 AND reviewer_id = ANY($2::uuid[])', [tenantId, U, placeholderId]);
    for (const id of U) {
      await tx.query(`UPDATE review_audit SET detail = replace(detail::text, $2, $3)::jsonb WHERE tenant_id = $1 AND strpos(detail::text, $2) > 0`, [tenantId, id, placeholderId]);
    }

    // Progress from Canvas, keyed by the Canvas user id (files and purge records cascade with their snapshots).
    await run(tx, 'snapshots', 'DELETE FROM evidence_snapshots WHERE tenant_id = $1 AND canvas_user_id = ANY($2::text[])', [tenantId, C]);
    await run(tx, 'progress', 'DELETE FROM credential_progress WHERE tenant_id = $1 AND canvas_user_id = ANY($2::text[])', [tenantId, C]);
    await run(tx, 'roster', 'DELETE FROM progress_roster WHERE tenant_id = $1 AND canvas_user_id = ANY($2::text[])', [tenantId, C]);
    await run(tx, 'identities', 'DELETE FROM canvas_identities WHERE tenant_id = $1 AND (canvas_user_id = ANY($2::text[]) OR user_id = ANY($3::uuid[]) OR lti_sub = ANY($4::text[]))', [tenantId, C, U, p.ltiSubs]);
    // Sync issues name educators (by Canvas id, and by name in the message).
    await tx.query(
      `UPDATE course_sync_states SET issues = (
         SELECT coalesce(jsonb_agg(e), '[]'::jsonb) FROM jsonb_array_elements(issues) e
          WHERE NOT (coalesce(e->>'canvasUserId', '') = ANY($2::text[])) AND NOT EXISTS (SELECT 1 FROM unnest($3::text[]) n WHERE strpos(e->>'message', n) > 0))
        WHERE tenant_id = $1 AND jsonb_array_length(issues) > 0`,
      [tenantId, C, p.names],
    );

    // ltijs's copies of the id_token (name, email) and context tokens, and logins in flight.
    const platform = encodeURIComponent(tenant.issuer + tenant.client_id + tenant.deployment_id);
    await run(tx, 'ltijsTokens', `DELETE FROM ltijs_idtoken WHERE doc->>'user' = ANY($1::text[]) AND doc->>'iss' = $2 AND doc->>'clientId' = $3 AND doc->>'deploymentId' = $4`, [p.ltiSubs, tenant.issuer, tenant.client_id, tenant.deployment_id]);
    await run(tx, 'ltijsTokens', `DELETE FROM ltijs_contexttoken WHERE doc->>'user' = ANY($1::text[]) AND starts_with(doc->>'contextId', $2)`, [p.ltiSubs, platform]);
    await run(tx, 'logins', 'DELETE FROM lti_logins WHERE issuer = $1 AND client_id = $2 AND login_hint = ANY($3::text[])', [tenant.issuer, tenant.client_id, [...p.ltiSubs, ...C]]);

    // Jobs about the person (a queued evidence snapshot would fetch their files again).
    await run(
      tx,
      'jobs',
      `DELETE FROM ${deps.jobSchema}.job WHERE data->>'tenantId' = $1 AND (data->>'canvasUserId' = ANY($2::text[]) OR data->>'userId' = ANY($3::text[]) OR data->>'earnerId' = ANY($3::text[]))`,
      [tenantId, C, U],
    );

    // The user rows: sessions, memberships, grants, Canvas tokens, preferences, awards and the CEU ledger cascade.
    await run(tx, 'users', 'DELETE FROM users WHERE tenant_id = $1 AND id = ANY($2::uuid[])', [tenantId, U]);

    await tx.query(`INSERT INTO privacy_audit (tenant_id, actor_id, action, subject_ref, detail) VALUES ($1, $2, 'delete_person', $3, $4)`, [
      tenantId,
      o.actorId,
      placeholderId,
      JSON.stringify({ revoked: toRevoke.length, ...removed }),
    ]);
  });
  logger.info({ tenantId, placeholderId, revoked: toRevoke.length, removed }, 'person deleted at their request');
  return { placeholderId, revoked: toRevoke.length, removed };
}

/** The stored copy of a revoked credential without its subject's identifiers, evidence or narrative. */
export function redactCredential(c: Record<string, unknown>): Record<string, unknown> {
  const { proof: _proof, evidence: _evidence, ...rest } = c;
  const subject = { ...((rest.credentialSubject as Record<string, unknown> | undefined) ?? {}) };
  delete subject.identifier;
  delete subject.narrative;
  delete subject.id;
  return { ...rest, credentialSubject: subject };
}
