import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { chromium, type Browser, type BrowserContext, type LaunchOptions } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = path.resolve('test-artifacts');

/** Debian's Chromium, headless, with no network beyond this machine. Fails loudly if it is not installed. */
export async function launchChromium(extraArgs: string[] = [], opts: LaunchOptions = {}): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM}: apt-get install chromium (.ci/run does this)`);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...ARGS, ...extraArgs],
    ...opts,
  });
}

export function artifact(name: string): string {
  return path.join(ARTIFACTS, name);
}

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];

/**
 * A Chromium profile in which cookies are blocked for the given origins (Settings → Site settings → Cookies →
 * "Not allowed to use third-party cookies"/block), as Safari does for every framed site.
 */
export async function launchWithCookiesBlocked(origins: string[], viewport = { width: 390, height: 844 }): Promise<BrowserContext> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM}: apt-get install chromium (.ci/run does this)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-chromium-'));
  fs.mkdirSync(path.join(dir, 'Default'), { recursive: true });
  const exceptions = Object.fromEntries(origins.map((o) => [`${o},*`, { setting: 2 }]));
  fs.writeFileSync(path.join(dir, 'Default', 'Preferences'), JSON.stringify({ profile: { content_settings: { exceptions: { cookies: exceptions } } } }));
  return chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport });
}
