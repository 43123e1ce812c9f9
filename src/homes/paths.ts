import { primaryRole, type AppRole } from '../lti/roles';

export const HOME_PATH: Record<AppRole, string> = { earner: '/earner', designer: '/designer', reviewer: '/reviewer', admin: '/admin', recognizer: '/reports' };

/** The home a launch lands on, for the person's most capable role. */
export function homePath(roles: readonly AppRole[]): string {
  return HOME_PATH[primaryRole(roles) ?? 'earner'];
}
