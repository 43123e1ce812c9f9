/**
 * LinkedIn's “Add to profile” link for a certification (the documented `profile/add` URL with
 * `startTask=CERTIFICATION_NAME`): LinkedIn opens the form filled in, the member saves it. Nothing is sent
 * to LinkedIn by microcred.
 */
export interface LinkedInCertification {
  name: string;
  organizationName: string;
  issued: Date;
  expires?: Date | null;
  /** The public credential page: LinkedIn's “Show credential” button opens it. */
  certUrl: string;
  certId: string;
}

export function linkedInAddUrl(c: LinkedInCertification): string {
  const q = new URLSearchParams({
    startTask: 'CERTIFICATION_NAME',
    name: c.name,
    organizationName: c.organizationName,
    issueYear: String(c.issued.getUTCFullYear()),
    issueMonth: String(c.issued.getUTCMonth() + 1),
  });
  if (c.expires) {
    q.set('expirationYear', String(c.expires.getUTCFullYear()));
    q.set('expirationMonth', String(c.expires.getUTCMonth() + 1));
  }
  q.set('certUrl', c.certUrl);
  q.set('certId', c.certId);
  return `https://www.linkedin.com/profile/add?${q.toString()}`;
}
