import type { Config } from '../config';
import type { LtiProvider } from '../lti/ltijsTypes';
import type { SessionContext } from '../lti/sessions';
import { defineRoutes } from '../web/routeTable';
import { InvalidInputError } from '../web/errors';
import { signDeepLinkingResponse, type ContentItem } from './respond';

/**
 * Deep Linking: from Canvas's "add content" placements, a designer picks what microcred places in the course,
 * and Canvas creates the module item (or the assignment). The catalog adds one choice per micro-credential.
 */
export function deepLinkingRoutes(deps: { config: Config; lti: LtiProvider; choices?: ChoiceSource }) {
  const choices: ChoiceSource = deps.choices ?? (async () => []);
  // An assignment being created is one micro-credential's evidence; a module can also take the course-wide link.
  const allChoices = async (ctx: SessionContext) => [...(ctx.launch.placement === 'assignment_selection' ? [] : baseChoices(deps.config)), ...(await choices(ctx))];
  return defineRoutes([
    {
      method: 'get',
      path: '/deep-linking',
      action: 'designer.deepLinking',
      handler: async (ctx, _req, res) => {
        const dl = ctx.launch.deepLinking;
        if (!dl) throw new InvalidInputError('This page only works from a Canvas “add content” launch.');
        res.render('deepLinking/choose', { title: 'Add microcred to the course', options: await allChoices(ctx), multiple: dl.acceptMultiple });
      },
    },
    {
      method: 'post',
      path: '/deep-linking',
      action: 'designer.deepLinking',
      handler: async (ctx, req, res) => {
        const all = await allChoices(ctx);
        const picked = ([] as unknown[]).concat((req.body as Record<string, unknown>).choice ?? []).filter((c): c is string => typeof c === 'string');
        const items = all.filter((c) => picked.includes(c.id)).map((c) => c.item);
        if (items.length === 0) throw new InvalidInputError('Choose at least one thing to add.', { choice: 'Choose at least one thing to add.' });
        const { returnUrl, jwt } = await signDeepLinkingResponse(deps.lti, ctx, items, `Added ${items.map((i) => i.title).join(', ')}`);
        res.render('deepLinking/return', { title: 'Adding to Canvas', returnUrl, jwt });
      },
    },
  ]);
}

export interface Choice {
  id: string;
  title: string;
  description: string;
  item: ContentItem;
}
export type ChoiceSource = (ctx: SessionContext) => Promise<Choice[]>;

function baseChoices(config: Config): Choice[] {
  return [
    {
      id: 'home',
      title: 'Micro-credentials',
      description: 'A link educators follow to see their micro-credentials, progress and badges.',
      item: { type: 'ltiResourceLink', title: 'Micro-credentials', url: `${config.publicUrl}/lti/launch`, custom: { microcred_target: 'home' } },
    },
  ];
}
