/**
 * A route table path with real ids in it, for tests that walk every route: the credential, stack and review item
 * they made; `:version` is 1; any other parameter becomes an id that exists nowhere (the route must answer 4xx).
 */
export function concreteRoute(path: string, ids: { credential?: string; stack?: string; item?: string }): string {
  let p = path;
  if (ids.credential) p = p.replace(/\/credentials\/:id/g, `/credentials/${ids.credential}`).replace(/:credentialId/g, ids.credential);
  if (ids.stack) p = p.replace(/\/stacks\/:id/g, `/stacks/${ids.stack}`);
  if (ids.item) p = p.replace(/\/items\/:id/g, `/items/${ids.item}`);
  return p.replace(/:version/g, '1').replace(/:[A-Za-z]+/g, '00000000-0000-4000-8000-000000000000');
}
