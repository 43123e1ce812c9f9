/**
 * LTI role URIs → the roles microcred works with. Canvas sends context roles (membership#…), institution
 * roles and system roles together (`$com.instructure.User.allRoles`), so all three vocabularies count.
 */
export type AppRole = 'earner' | 'designer' | 'reviewer' | 'admin' | 'recognizer';

const LIS = 'http://purl.imsglobal.org/vocab/lis/v2/';

function has(roles: readonly string[], ...suffixes: string[]): boolean {
  return roles.some((r) => suffixes.some((s) => r === LIS + s || r === s));
}

export function appRolesFromLti(ltiRoles: readonly string[], grants: readonly AppRole[] = []): AppRole[] {
  const out = new Set<AppRole>(grants);
  if (has(ltiRoles, 'institution/person#Administrator', 'system/person#Administrator', 'system/person#SysAdmin', 'membership#Administrator')) out.add('admin');
  if (has(ltiRoles, 'membership#Instructor', 'membership#ContentDeveloper', 'Instructor', 'ContentDeveloper')) {
    // A Canvas TA arrives as Instructor *and* Instructor#TeachingAssistant: a reviewer, not a designer.
    if (has(ltiRoles, 'membership/Instructor#TeachingAssistant', 'membership#TeachingAssistant')) out.add('reviewer');
    else out.add('designer');
  }
  if (has(ltiRoles, 'membership/Instructor#TeachingAssistant', 'membership#TeachingAssistant')) out.add('reviewer');
  if (has(ltiRoles, 'membership#Learner', 'Learner')) out.add('earner');
  return [...out];
}

/** The home a launch lands on: the most capable role first, as a person would expect. */
export function primaryRole(roles: readonly AppRole[]): AppRole | undefined {
  const order: AppRole[] = ['admin', 'designer', 'reviewer', 'recognizer', 'earner'];
  return order.find((r) => roles.includes(r));
}

export const ROLE_LABELS: Record<AppRole, string> = {
  earner: 'Educator',
  designer: 'Course designer',
  reviewer: 'Reviewer',
  admin: 'Administrator',
  recognizer: 'Recognizer',
};
