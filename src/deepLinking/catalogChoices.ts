import type { Config } from '../config';
import type { SessionContext } from '../lti/sessions';
import type { CatalogDeps } from '../catalog/commands/common';
import { repoOf, visibilityFor } from '../catalog/commands/common';
import { definitionOf } from '../catalog/presenters';
import { maxPoints } from '../catalog/rules';
import type { Choice } from './routes';

/**
 * What a designer can place from the catalog: each published micro-credential of this course, as a link in
 * a module, or — where Canvas creates assignments from deep links — as a graded assignment whose AGS line
 * item (scored out of the rubric's points) receives the result when the badge is awarded.
 */
export function catalogChoices(deps: { config: Config; catalog: CatalogDeps }) {
  const launchUrl = `${deps.config.publicUrl}/lti/launch`;
  return async (ctx: SessionContext): Promise<Choice[]> => {
    if (!ctx.course) return [];
    const rows = await repoOf(deps.catalog).listCredentials(ctx.tenant.id, visibilityFor(ctx), { state: 'published', courseId: ctx.course.id });
    const selectingAssignment = ctx.launch.placement === 'assignment_selection';
    const choices: Choice[] = [];
    for (const { credential, version } of rows) {
      const def = definitionOf(version);
      const custom = { microcred_credential: credential.id };
      if (selectingAssignment) {
        choices.push({
          id: `assignment:${credential.id}`,
          title: def.name,
          description: `This assignment collects the evidence for “${def.name}”; its grade comes from the review (out of ${maxPoints(def.rubric)} points).`,
          item: { type: 'ltiResourceLink', title: def.name, url: launchUrl, custom },
        });
        continue;
      }
      choices.push({
        id: `link:${credential.id}`,
        title: def.name,
        description: 'A link in the module: educators open this micro-credential, its evidence prompts and their progress.',
        item: { type: 'ltiResourceLink', title: def.name, url: launchUrl, custom },
      });
      choices.push({
        id: `graded:${credential.id}`,
        title: `${def.name} (graded assignment)`,
        description: `An assignment in the gradebook, scored out of ${maxPoints(def.rubric)} points; microcred posts the result when the badge is awarded.`,
        item: { type: 'ltiResourceLink', title: def.name, url: launchUrl, custom, lineItem: { scoreMaximum: maxPoints(def.rubric), label: def.name, resourceId: credential.id, tag: 'microcred' } },
      });
    }
    return choices;
  };
}
