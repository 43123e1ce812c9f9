/**
 * A small scripted browser for end-to-end tests over real HTTP: a cookie jar per host, manual redirects,
 * HTML forms that submit themselves (Canvas's form_post), and the two microcred pages that need
 * JavaScript (LTI Platform Storage put/get), whose behaviour it reproduces from their JSON config.
 */
export interface Page {
  url: string;
  status: number;
  headers: Headers;
  body: string;
}

type Cookie = { name: string; value: string; path: string };

export class Browser {
  private readonly jar = new Map<string, Cookie[]>();
  /** The Canvas frame's platform storage (lti.put_data / lti.get_data), keyed by tool origin. */
  readonly platformStorage = new Map<string, string>();
  readonly history: Page[] = [];

  constructor(private readonly opts: { blockThirdPartyCookies?: boolean; topLevelHost?: string; platformStorage?: boolean } = {}) {}

  async get(url: string): Promise<Page> {
    return this.request('GET', url);
  }

  async post(url: string, form: Record<string, string>): Promise<Page> {
    return this.request('POST', url, new URLSearchParams(form).toString());
  }

  /** Follows redirects and self-submitting forms until a page needs a person. */
  async request(method: string, url: string, body?: string, depth = 0): Promise<Page> {
    if (depth > 15) throw new Error('too many redirects');
    const headers: Record<string, string> = { 'User-Agent': 'microcred-test-browser' };
    const cookie = this.cookieHeader(url);
    if (cookie) headers.Cookie = cookie;
    if (body !== undefined) headers['Content-Type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(url, { method, headers, body, redirect: 'manual' });
    this.store(url, res.headers);
    const page: Page = { url, status: res.status, headers: res.headers, body: await res.text() };
    this.history.push(page);
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) return this.request('GET', new URL(location, url).toString(), undefined, depth + 1);
    const auto = autoSubmitForm(page);
    if (auto) return this.request(auto.method, auto.action, new URLSearchParams(auto.fields).toString(), depth + 1);
    const storage = this.platformStorageStep(page);
    if (storage) return storage.then((p) => p);
    return page;
  }

  private platformStorageStep(page: Page): Promise<Page> | undefined {
    const m = /<script type="application\/json" id="lti-storage-config">([\s\S]*?)<\/script>/.exec(page.body);
    if (!m) return undefined;
    const config = JSON.parse(m[1]!) as { action: 'put' | 'get'; key: string; value?: string; next?: string };
    const origin = new URL(page.url).origin;
    const key = origin + '|' + config.key;
    if (config.action === 'put') {
      if (this.opts.platformStorage !== false) this.platformStorage.set(key, config.value ?? '');
      return this.request('GET', config.next!);
    }
    const value = this.platformStorage.get(key);
    if (value === undefined) return Promise.resolve(page); // the page then offers "open in a new window"
    const form = parseForm(page.body, 'lti-storage-form');
    if (!form) throw new Error('storage launch page has no form');
    form.fields.lti_storage_proof = value;
    return this.request('POST', new URL(form.action, page.url).toString(), new URLSearchParams(form.fields).toString());
  }

  private cookieHeader(url: string): string {
    const u = new URL(url);
    if (this.isThirdParty(u)) return '';
    return (this.jar.get(u.host) ?? [])
      .filter((c) => u.pathname.startsWith(c.path))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  private store(url: string, headers: Headers): void {
    const u = new URL(url);
    if (this.isThirdParty(u)) return;
    for (const line of headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const path = attrs.map((a) => a.trim()).find((a) => a.toLowerCase().startsWith('path='))?.slice(5) ?? '/';
      const expired = attrs.some((a) => /^expires=thu, 01 jan 1970/i.test(a.trim()) || /^max-age=0$/i.test(a.trim()));
      const list = (this.jar.get(u.host) ?? []).filter((c) => c.name !== name);
      if (!expired) list.push({ name, value, path });
      this.jar.set(u.host, list);
    }
  }

  /** With third-party cookies blocked, a framed tool on another site neither sets nor sends cookies. */
  private isThirdParty(u: URL): boolean {
    return !!this.opts.blockThirdPartyCookies && !!this.opts.topLevelHost && u.hostname !== new URL('http://' + this.opts.topLevelHost).hostname;
  }

  cookies(host: string): Cookie[] {
    return this.jar.get(host) ?? [];
  }
}

/** Canvas's form_post page: a form with hidden inputs and a script that submits it. */
function autoSubmitForm(page: Page): { method: string; action: string; fields: Record<string, string> } | undefined {
  if (!/<form[^>]*id="lti-launch-form"/i.test(page.body) && !/data-auto-submit/i.test(page.body)) return undefined;
  const form = parseForm(page.body);
  if (!form) return undefined;
  return { method: form.method, action: new URL(form.action, page.url).toString(), fields: form.fields };
}

export function parseForm(html: string, id?: string): { method: string; action: string; fields: Record<string, string> } | undefined {
  const formRe = /<form\b([^>]*)>([\s\S]*?)<\/form>/gi;
  for (let m = formRe.exec(html); m; m = formRe.exec(html)) {
    const attrs = m[1]!;
    if (id && !new RegExp(`id="${id}"`).test(attrs)) continue;
    const action = decodeEntities(/action="([^"]*)"/i.exec(attrs)?.[1] ?? '');
    const method = (/method="([^"]*)"/i.exec(attrs)?.[1] ?? 'GET').toUpperCase();
    const fields: Record<string, string> = {};
    const inputRe = /<input\b([^>]*)>/gi;
    for (let i = inputRe.exec(m[2]!); i; i = inputRe.exec(m[2]!)) {
      const name = /name="([^"]*)"/i.exec(i[1]!)?.[1];
      if (name) fields[decodeEntities(name)] = decodeEntities(/value="([^"]*)"/i.exec(i[1]!)?.[1] ?? '');
    }
    return { method, action, fields };
  }
  return undefined;
}

export function decodeEntities(s: string): string {
  return s
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCharCode(Number(d)))
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
