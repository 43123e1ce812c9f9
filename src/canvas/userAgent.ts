import pkg from '../../package.json';

/** Canvas rejects API requests without a User-Agent (403), so every request we make names itself. */
export const USER_AGENT = `microcred/${pkg.version} (LTI 1.3 tool for Canvas)`;
