/**
 * Builds public/css/tokens.css from Instructure UI's Canvas theme tokens.
 *
 *   npm run theme            (= npx tsx scripts/build-theme.ts)
 *
 * Reads `@instructure/canvas-theme` (the Canvas theme, WCAG 2.1 AA) and the
 * `canvasHighContrast` theme of `@instructure/ui-themes` (WCAG 2.1 AAA), and
 * writes them as CSS custom properties named `--mc-*`:
 *
 *   :root                                   the Canvas theme
 *   [data-theme="high-contrast"]            the high-contrast theme, on demand
 *   @media (prefers-contrast: more)         the high-contrast theme, when the OS asks
 *
 * It also copies the Lato web fonts (as Canvas uses) from `@fontsource/lato` to
 * public/css/fonts/. The output is committed, so the app needs no build step;
 * rerun this script after upgrading the theme packages and commit the result.
 *
 * Only documented, public theme values are read: the legacy shared tokens
 * (`typography`, `spacing`, `borders`, `breakpoints`, `shadows`, `transitions`,
 * `forms`), `colors.contrasts` / `colors.ui`, and the component tokens
 * (`newTheme.components.X(semantics, sharedTokens)`) for buttons, inputs,
 * pills, alerts, progress bars, tabs and the focus outline.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import canvasTheme from '@instructure/canvas-theme';
import { canvasHighContrast } from '@instructure/ui-themes';

const ROOT = resolve(__dirname, '..');
const OUT_CSS = join(ROOT, 'public/css/tokens.css');
const FONT_DIR = join(ROOT, 'public/css/fonts');

// ---------------------------------------------------------------------------
// Reading the theme objects (validated at the edge: the packages are JS)
// ---------------------------------------------------------------------------

type Scalar = string | number;
type Dict = Record<string, unknown>;

function isDict(v: unknown): v is Dict {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function dict(v: unknown, where: string): Dict {
  if (!isDict(v)) throw new Error(`theme: expected an object at ${where}`);
  return v;
}

function scalar(obj: Dict, key: string, where: string): Scalar {
  const v = obj[key];
  if (typeof v !== 'string' && typeof v !== 'number') {
    throw new Error(`theme: expected a string or number at ${where}.${key}, got ${typeof v}`);
  }
  return v;
}

function str(obj: Dict, key: string, where: string): string {
  return String(scalar(obj, key, where));
}

interface Theme {
  name: string;
  description: string;
  legacy: (group: string) => Dict;
  contrasts: Dict;
  ui: Dict;
  component: (name: string) => Dict;
  focus: Dict;
}

/** Wraps an InstUI theme object; resolves component tokens through its semantics. */
function readTheme(name: string, raw: unknown): Theme {
  const t = dict(raw, name);
  const colors = dict(t.colors, `${name}.colors`);
  const newTheme = dict(t.newTheme, `${name}.newTheme`);
  const { primitives, semantics: semanticsFn, sharedTokens: sharedFn, components } = newTheme;
  if (typeof semanticsFn !== 'function' || typeof sharedFn !== 'function' || !isDict(components)) {
    throw new Error(`theme: ${name}.newTheme has no semantics/sharedTokens/components`);
  }
  const semantics: unknown = semanticsFn(primitives);
  const shared = dict(sharedFn(semantics), `${name}.sharedTokens`);
  return {
    name,
    description: typeof t.description === 'string' ? t.description : '',
    legacy: (group) => dict(t[group], `${name}.${group}`),
    contrasts: dict(colors.contrasts, `${name}.colors.contrasts`),
    ui: dict(colors.ui, `${name}.colors.ui`),
    focus: dict(shared.focusOutline, `${name}.sharedTokens.focusOutline`),
    component: (c) => {
      const fn = components[c];
      if (typeof fn !== 'function') throw new Error(`theme: ${name} has no component tokens for ${c}`);
      return dict(fn(semantics, shared), `${name}.components.${c}`);
    },
  };
}

// ---------------------------------------------------------------------------
// Token map: CSS custom property -> value, in a stable order
// ---------------------------------------------------------------------------

type Section = { title: string; vars: Array<[string, Scalar]> };

/** Colours: the part that differs between the Canvas and high-contrast themes. */
function colorSections(th: Theme): Section[] {
  const c = (k: string) => str(th.contrasts, k, `${th.name}.colors.contrasts`);
  const ui = (k: string) => str(th.ui, k, `${th.name}.colors.ui`);
  const btn = th.component('BaseButton');
  const b = (k: string) => str(btn, k, `${th.name}.BaseButton`);
  const input = th.component('TextInput');
  const inp = (k: string) => str(input, k, `${th.name}.TextInput`);
  const radio = th.component('RadioInput');
  const pill = th.component('Pill');
  const p = (k: string) => str(pill, k, `${th.name}.Pill`);
  const alert = th.component('Alert');
  const a = (k: string) => str(alert, k, `${th.name}.Alert`);
  const progress = th.component('ProgressBar');
  const tab = th.component('TabsTab');
  const msg = th.component('FormFieldMessage');
  const heading = th.component('Heading');
  const mask = th.component('Mask');
  const modal = th.component('Modal');
  const f = (k: string) => str(th.focus, k, `${th.name}.focusOutline`);

  return [
    {
      // The Canvas brand variables (ic-brand-primary, ic-link-color, ...) as
      // ui-themes derives them from colors.contrasts.
      title: 'Brand (Canvas ic-brand-* variables)',
      vars: [
        ['--mc-color-brand', c('blue4570')],
        ['--mc-color-brand-font-dark', c('grey125125')],
        ['--mc-color-link', c('blue5782')],
        ['--mc-color-global-nav', c('grey100100')],
      ],
    },
    {
      title: 'Text',
      vars: [
        ['--mc-color-text', ui('textBody')],
        ['--mc-color-text-title', ui('textTitle')],
        ['--mc-color-text-muted', ui('textTimestamp')],
        ['--mc-color-text-success', ui('textSuccess')],
        ['--mc-color-text-warning', ui('textWarning')],
        ['--mc-color-text-error', ui('textError')],
        ['--mc-color-text-on-color', ui('textSurfaceColored')],
        ['--mc-color-text-placeholder', inp('placeholderColor')],
        ['--mc-color-text-disabled', inp('textDisabledColor')],
        ['--mc-color-heading-muted', str(heading, 'mutedColor', 'Heading')],
      ],
    },
    {
      title: 'Surfaces and lines',
      vars: [
        ['--mc-color-surface', ui('surfacePagePrimary')],
        ['--mc-color-surface-secondary', ui('surfacePageSecondary')],
        ['--mc-color-surface-card', ui('surfaceCardPrimary')],
        ['--mc-color-surface-dark', ui('surfaceDark')],
        ['--mc-color-surface-overlay', str(mask, 'backgroundColor', 'Mask')],
        ['--mc-color-surface-overlay-dark', ui('surfaceOverlayGrey')],
        ['--mc-color-border', ui('lineStroke')],
        ['--mc-color-divider', ui('lineDivider')],
        ['--mc-color-border-strong', inp('borderColor')],
        ['--mc-color-modal-border', str(modal, 'borderColor', 'Modal')],
      ],
    },
    {
      title: 'Status (info, success, warning, danger): strong colour and light tint',
      vars: [
        ['--mc-color-info', ui('surfaceAttention')],
        ['--mc-color-info-text', c('blue5782')],
        ['--mc-color-info-tint', c('blue1212')],
        ['--mc-color-success', ui('surfaceSuccess')],
        ['--mc-color-success-text', ui('textSuccess')],
        ['--mc-color-success-tint', c('green1212')],
        ['--mc-color-warning', ui('surfaceWarning')],
        ['--mc-color-warning-text', ui('textWarning')],
        ['--mc-color-warning-tint', c('orange1212')],
        ['--mc-color-danger', ui('surfaceError')],
        ['--mc-color-danger-text', ui('textError')],
        ['--mc-color-danger-tint', c('red1212')],
        ['--mc-color-neutral', c('grey4570')],
        ['--mc-color-neutral-text', c('grey5782')],
        ['--mc-color-neutral-tint', c('grey1111')],
        ['--mc-color-accent', c('violet4570')],
        ['--mc-color-accent-text', c('violet5790')],
        ['--mc-color-accent-tint', c('violet1212')],
      ],
    },
    {
      title: 'Buttons (BaseButton)',
      vars: [
        ['--mc-button-primary-bg', b('primaryBackground')],
        ['--mc-button-primary-border', b('primaryBorderColor')],
        ['--mc-button-primary-text', b('primaryColor')],
        ['--mc-button-primary-hover-bg', b('primaryHoverBackground')],
        ['--mc-button-primary-active-bg', b('primaryActiveBackground')],
        ['--mc-button-secondary-bg', b('secondaryBackground')],
        ['--mc-button-secondary-border', b('secondaryBorderColor')],
        ['--mc-button-secondary-text', b('secondaryColor')],
        ['--mc-button-secondary-hover-bg', b('secondaryHoverBackground')],
        ['--mc-button-secondary-active-bg', b('secondaryActiveBackground')],
        ['--mc-button-danger-bg', b('dangerBackground')],
        ['--mc-button-danger-border', b('dangerBorderColor')],
        ['--mc-button-danger-text', b('dangerColor')],
        ['--mc-button-danger-hover-bg', b('dangerHoverBackground')],
        ['--mc-button-danger-active-bg', b('dangerActiveBackground')],
        ['--mc-button-link-text', c('blue5782')],
        ['--mc-button-link-hover-bg', b('primaryGhostHoverBackground')],
        ['--mc-button-disabled-opacity', scalar(btn, 'opacityDisabled', 'BaseButton')],
      ],
    },
    {
      title: 'Form controls (TextInput, RadioInput, FormFieldMessage)',
      vars: [
        ['--mc-input-bg', inp('backgroundColor')],
        ['--mc-input-bg-disabled', inp('backgroundDisabledColor')],
        ['--mc-input-border', inp('borderColor')],
        ['--mc-input-border-disabled', inp('borderDisabledColor')],
        ['--mc-input-border-error', inp('errorBorderColor')],
        ['--mc-input-text', inp('textColor')],
        ['--mc-radio-border', str(radio, 'borderColor', 'RadioInput')],
        ['--mc-radio-border-selected', str(radio, 'borderSelectedColor', 'RadioInput')],
        ['--mc-hint-text', str(msg, 'hintTextColor', 'FormFieldMessage')],
        ['--mc-error-text', str(msg, 'errorTextColor', 'FormFieldMessage')],
      ],
    },
    {
      title: 'Pills (status badges)',
      vars: [
        ['--mc-pill-bg', p('backgroundColor')],
        ['--mc-pill-text', p('baseTextColor')],
        ['--mc-pill-border', p('baseBorderColor')],
        ['--mc-pill-info', p('infoTextColor')],
        ['--mc-pill-info-border', p('infoBorderColor')],
        ['--mc-pill-success', p('successTextColor')],
        ['--mc-pill-success-border', p('successBorderColor')],
        ['--mc-pill-warning', p('warningTextColor')],
        ['--mc-pill-warning-border', p('warningBorderColor')],
        ['--mc-pill-danger', p('errorTextColor')],
        ['--mc-pill-danger-border', p('errorBorderColor')],
      ],
    },
    {
      title: 'Alerts',
      vars: [
        ['--mc-alert-bg', a('background')],
        ['--mc-alert-text', a('color')],
        ['--mc-alert-info', a('infoBorderColor')],
        ['--mc-alert-success', a('successBorderColor')],
        ['--mc-alert-warning', a('warningBorderColor')],
        ['--mc-alert-danger', a('dangerBorderColor')],
        ['--mc-alert-icon', a('iconColor')],
      ],
    },
    {
      title: 'Progress bar, tabs',
      vars: [
        ['--mc-progress-track', str(progress, 'trackColor', 'ProgressBar')],
        ['--mc-progress-track-border', str(progress, 'trackBottomBorderColor', 'ProgressBar')],
        ['--mc-progress-meter', str(progress, 'meterColorBrand', 'ProgressBar')],
        ['--mc-progress-meter-success', str(progress, 'meterColorSuccess', 'ProgressBar')],
        ['--mc-tab-text', str(tab, 'defaultTextColor', 'TabsTab')],
        ['--mc-tab-hover-border', str(tab, 'defaultHoverBorderColor', 'TabsTab')],
        ['--mc-tab-selected-border', str(tab, 'defaultSelectedBorderColor', 'TabsTab')],
      ],
    },
    {
      title: 'Focus outline (sharedTokens.focusOutline)',
      vars: [
        ['--mc-focus-color', f('infoColor')],
        ['--mc-focus-color-on-color', f('onColor')],
        ['--mc-focus-color-danger', f('dangerColor')],
        ['--mc-focus-width', f('width')],
        ['--mc-focus-offset', f('offset')],
        ['--mc-focus-style', f('style')],
      ],
    },
  ];
}

/** Everything else: shared by both themes (type, spacing, borders, ...). */
function sharedSections(th: Theme): Section[] {
  const typo = th.legacy('typography');
  const ty = (k: string) => scalar(typo, k, 'typography');
  const spacing = th.legacy('spacing');
  const borders = th.legacy('borders');
  const breakpoints = th.legacy('breakpoints');
  const shadows = th.legacy('shadows');
  const transitions = th.legacy('transitions');
  const forms = th.legacy('forms');
  const btn = th.component('BaseButton');
  const pill = th.component('Pill');
  const alert = th.component('Alert');
  const progress = th.component('ProgressBar');
  const cell = th.component('TableCell');
  const modal = th.component('Modal');

  const pick = (obj: Dict, group: string, prefix: string, keys: string[]): Array<[string, Scalar]> =>
    keys.map((k) => [`--mc-${prefix}-${kebab(k)}`, scalar(obj, k, group)]);

  return [
    {
      title: 'Typography (Lato, as Canvas; 1rem base)',
      vars: [
        ['--mc-font-family', String(ty('fontFamily'))],
        ['--mc-font-family-mono', String(ty('fontFamilyMonospace'))],
        ['--mc-font-size-xs', ty('fontSizeXSmall')],
        ['--mc-font-size-sm', ty('fontSizeSmall')],
        ['--mc-font-size-md', ty('fontSizeMedium')],
        ['--mc-font-size-lg', ty('fontSizeLarge')],
        ['--mc-font-size-xl', ty('fontSizeXLarge')],
        ['--mc-font-size-xxl', ty('fontSizeXXLarge')],
        ['--mc-font-weight-light', ty('fontWeightLight')],
        ['--mc-font-weight-normal', ty('fontWeightNormal')],
        ['--mc-font-weight-bold', ty('fontWeightBold')],
        ['--mc-line-height', ty('lineHeight')],
        ['--mc-line-height-fit', ty('lineHeightFit')],
        ['--mc-line-height-condensed', ty('lineHeightCondensed')],
        ['--mc-line-height-double', ty('lineHeightDouble')],
        ['--mc-title-page-desktop', ty('titlePageDesktop')],
        ['--mc-title-page-mobile', ty('titlePageMobile')],
        ['--mc-title-section', ty('titleSection')],
        ['--mc-title-module', ty('titleModule')],
        ['--mc-title-card-large', ty('titleCardLarge')],
        ['--mc-title-card', ty('titleCardRegular')],
        ['--mc-title-card-mini', ty('titleCardMini')],
        ['--mc-description-page', ty('descriptionPage')],
        ['--mc-font-size-content-small', ty('contentSmall')],
      ],
    },
    {
      title: 'Spacing (InstUI legacy scale)',
      vars: pick(spacing, 'spacing', 'space', [
        'xxxSmall', 'xxSmall', 'xSmall', 'small', 'mediumSmall', 'medium', 'large', 'xLarge', 'xxLarge',
        'sections', 'paddingCardSmall', 'paddingCardMedium', 'paddingCardLarge', 'buttons',
      ]),
    },
    {
      title: 'Borders',
      vars: [
        ...pick(borders, 'borders', 'border', ['radiusSmall', 'radiusMedium', 'radiusLarge', 'widthSmall', 'widthMedium', 'widthLarge', 'style']),
        ['--mc-radius-pill', str(pill, 'borderRadius', 'Pill')],
        ['--mc-alert-border-width', str(alert, 'borderWidth', 'Alert')],
      ],
    },
    {
      title: 'Breakpoints (reference only: custom properties cannot be used in @media; app.css repeats these values)',
      vars: pick(breakpoints, 'breakpoints', 'breakpoint', ['xSmall', 'small', 'medium', 'large', 'desktop', 'xLarge', 'maxWidth']),
    },
    {
      title: 'Shadows',
      vars: pick(shadows, 'shadows', 'shadow', ['depth1', 'depth2', 'depth3', 'card', 'cardHover']),
    },
    {
      title: 'Motion',
      vars: pick(transitions, 'transitions', 'transition', ['duration', 'timing']),
    },
    {
      title: 'Control sizes (forms, BaseButton, Pill, ProgressBar, TableCell, Modal)',
      vars: [
        ...pick(forms, 'forms', 'control', ['inputHeightSmall', 'inputHeightMedium', 'inputHeightLarge']).map(
          ([n, v]): [string, Scalar] => [n.replace('-input-height-', '-height-'), v],
        ),
        ['--mc-button-padding-x', str(btn, 'mediumPaddingHorizontal', 'BaseButton')],
        ['--mc-button-padding-x-small', str(btn, 'smallPaddingHorizontal', 'BaseButton')],
        ['--mc-button-radius', str(btn, 'borderRadius', 'BaseButton')],
        ['--mc-button-border-width', str(btn, 'borderWidth', 'BaseButton')],
        ['--mc-pill-height', str(pill, 'height', 'Pill')],
        ['--mc-pill-padding-x', str(pill, 'paddingHorizontal', 'Pill')],
        ['--mc-pill-font-size', str(pill, 'textFontSize', 'Pill')],
        ['--mc-alert-padding-y', str(alert, 'contentPaddingVertical', 'Alert')],
        ['--mc-alert-padding-x', str(alert, 'contentPaddingHorizontal', 'Alert')],
        ['--mc-progress-height', str(progress, 'smallHeight', 'ProgressBar')],
        ['--mc-table-cell-padding-y', str(cell, 'paddingVertical', 'TableCell')],
        ['--mc-table-cell-padding-x', str(cell, 'paddingHorizontal', 'TableCell')],
        ['--mc-modal-max-width-small', str(modal, 'smallMaxWidth', 'Modal')],
        ['--mc-modal-max-width-medium', str(modal, 'mediumMaxWidth', 'Modal')],
      ],
    },
  ];
}

function kebab(s: string): string {
  return s
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
}

// ---------------------------------------------------------------------------
// Contrast check (WCAG 2.1 relative luminance)
// ---------------------------------------------------------------------------

function luminance(hex: string): number {
  const m = /^#([0-9a-f]{6})/i.exec(hex);
  if (!m?.[1]) throw new Error(`contrast: not a #rrggbb colour: ${hex}`);
  const n = parseInt(m[1], 16);
  const ch = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((v) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  const [r = 0, g = 0, b = 0] = ch;
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function contrast(fg: string, bg: string): number {
  const [l1, l2] = [luminance(fg), luminance(bg)].sort((x, y) => y - x) as [number, number];
  return (l1 + 0.05) / (l2 + 0.05);
}

/** Text pairs app.css uses; each must reach the theme's target (4.5 AA, 7 AAA for high contrast). */
const TEXT_PAIRS: Array<[fg: string, bg: string]> = [
  ['--mc-color-text', '--mc-color-surface'],
  ['--mc-color-text', '--mc-color-surface-secondary'],
  ['--mc-color-text-muted', '--mc-color-surface'],
  ['--mc-color-text-muted', '--mc-color-surface-secondary'],
  ['--mc-color-link', '--mc-color-surface'],
  ['--mc-color-link', '--mc-color-surface-secondary'],
  ['--mc-color-text-error', '--mc-color-surface'],
  ['--mc-color-text-success', '--mc-color-surface'],
  ['--mc-color-text-warning', '--mc-color-surface'],
  ['--mc-color-info-text', '--mc-color-info-tint'],
  ['--mc-color-success-text', '--mc-color-success-tint'],
  ['--mc-color-warning-text', '--mc-color-warning-tint'],
  ['--mc-color-danger-text', '--mc-color-danger-tint'],
  ['--mc-color-neutral-text', '--mc-color-neutral-tint'],
  ['--mc-color-accent-text', '--mc-color-accent-tint'],
  ['--mc-button-primary-text', '--mc-button-primary-bg'],
  ['--mc-button-primary-text', '--mc-button-primary-hover-bg'],
  ['--mc-button-secondary-text', '--mc-button-secondary-bg'],
  ['--mc-button-secondary-text', '--mc-button-secondary-hover-bg'],
  ['--mc-button-danger-text', '--mc-button-danger-hover-bg'],
  ['--mc-color-text-on-color', '--mc-color-surface-dark'],
];

/** Text pairs Canvas itself ships below 4.5:1; app.css does not use them for text, listed so nobody starts to. */
const KNOWN_LOW: ReadonlySet<string> = new Set([
  '--mc-button-danger-text on --mc-button-danger-bg',
  '--mc-color-brand on --mc-color-surface',
]);

function checkContrast(label: string, sections: Section[], target: number): string[] {
  const vars = new Map(sections.flatMap((s) => s.vars).map(([k, v]) => [k, String(v)]));
  const report: string[] = [];
  const failures: string[] = [];
  const pairs: Array<[string, string]> = [...TEXT_PAIRS, ['--mc-button-danger-text', '--mc-button-danger-bg'], ['--mc-color-brand', '--mc-color-surface']];
  for (const [fg, bg] of pairs) {
    const f = vars.get(fg);
    const b = vars.get(bg);
    if (!f || !b) throw new Error(`contrast: missing ${fg} or ${bg}`);
    const ratio = contrast(f, b);
    const name = `${fg} on ${bg}`;
    const ok = ratio >= target;
    const note = ok ? '' : KNOWN_LOW.has(name) ? ` (below ${target}:1; not used for text)` : ` (below ${target}:1)`;
    report.push(`${label}: ${name} ${ratio.toFixed(2)}:1${note}`);
    // Hard floor: WCAG 2.1 AA (4.5:1) for every text pair in every theme.
    if (ratio < 4.5 && !KNOWN_LOW.has(name)) failures.push(name);
  }
  if (failures.length) throw new Error(`contrast: ${label} text pairs below 4.5:1: ${failures.join(', ')}`);
  return report;
}

// ---------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------

function block(selector: string, sections: Section[], indent = ''): string {
  const lines = [`${indent}${selector} {`];
  for (const s of sections) {
    lines.push(`${indent}  /* ${s.title} */`);
    for (const [k, v] of s.vars) lines.push(`${indent}  ${k}: ${v};`);
  }
  lines.push(`${indent}}`);
  return lines.join('\n');
}

function pkgVersion(name: string): string {
  const pkgPath = require.resolve(`${name}/package.json`);
  const pkg = dict(JSON.parse(readFileSync(pkgPath, 'utf8')), `${name}/package.json`);
  return str(pkg, 'version', name);
}

function copyFonts(): string {
  mkdirSync(FONT_DIR, { recursive: true });
  const src = dirname(require.resolve('@fontsource/lato/package.json'));
  const faces: string[] = [];
  for (const weight of [400, 700]) {
    for (const style of ['normal', 'italic']) {
      const file = `lato-latin-${weight}-${style}.woff2`;
      copyFileSync(join(src, 'files', file), join(FONT_DIR, file));
      const local = `Lato ${weight === 700 ? 'Bold' : 'Regular'}${style === 'italic' ? ' Italic' : ''}`.replace('Regular Italic', 'Italic');
      faces.push(
        [
          '@font-face {',
          "  font-family: 'LatoWeb';",
          `  font-style: ${style};`,
          `  font-weight: ${weight};`,
          '  font-display: swap;',
          `  src: local('${local}'), url('fonts/${file}') format('woff2');`,
          '  unicode-range: U+0000-00FF, U+0131, U+0152-0153, U+02BB-02BC, U+02C6, U+02DA, U+02DC, U+0304, U+0308, U+0329, U+2000-206F, U+20AC, U+2122, U+2191, U+2193, U+2212, U+2215, U+FEFF, U+FFFD;',
          '}',
        ].join('\n'),
      );
    }
  }
  copyFileSync(join(src, 'LICENSE'), join(FONT_DIR, 'LICENSE-OFL.txt'));
  return faces.join('\n');
}

function main(): void {
  const canvas = readTheme('canvas', canvasTheme);
  const hc = readTheme('canvasHighContrast', canvasHighContrast);

  const canvasColors = colorSections(canvas);
  const hcColors = colorSections(hc);
  const shared = sharedSections(canvas);

  const report = [
    ...checkContrast('canvas', canvasColors, 4.5),
    ...checkContrast('high-contrast', hcColors, 7),
  ];

  const versions = ['@instructure/canvas-theme', '@instructure/ui-themes', '@fontsource/lato']
    .map((n) => `${n}@${pkgVersion(n)}`)
    .join(', ');

  const css = [
    '/*',
    ' * microcred design tokens: GENERATED by scripts/build-theme.ts (npm run theme). Do not edit by hand.',
    ` * Source: ${versions}.`,
    ` * :root is the Canvas theme ("${canvas.description}")`,
    ` * [data-theme="high-contrast"] and @media (prefers-contrast: more) use canvasHighContrast ("${hc.description}").`,
    ' * Lato fonts: SIL Open Font License 1.1 (fonts/LICENSE-OFL.txt).',
    ' */',
    '',
    copyFonts(),
    '',
    block(':root', [...canvasColors, ...shared]),
    '',
    '/* High contrast, chosen by the page (e.g. a user preference) */',
    block('[data-theme="high-contrast"]', hcColors),
    '',
    '/* High contrast, asked for by the operating system, unless the page pins the Canvas theme */',
    '@media (prefers-contrast: more) {',
    block(':root:not([data-theme="canvas"])', hcColors, '  '),
    '}',
    '',
  ].join('\n');

  mkdirSync(dirname(OUT_CSS), { recursive: true });
  writeFileSync(OUT_CSS, css);
  console.log(`wrote ${OUT_CSS} from ${versions}`);
  for (const line of report) console.log(`  ${line}`);
}

main();
