// A small W3C WebDriver client over fetch (Node 20), enough to drive the app's window
// through tauri-driver → WebKitWebDriver: sessions, elements by data-testid, clicks,
// typing, text, attributes, scripts and screenshots. No dependencies, so the E2E suite
// needs no npm install; errors carry the WebDriver error code and the request.

import { writeFileSync } from 'node:fs';
import { sleep } from './procs.mjs';

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

/** Keys for sendKeys (WebDriver's Unicode private-use code points). */
export const Keys = {
  NULL: '\uE000',
  BACKSPACE: '\uE003',
  TAB: '\uE004',
  ENTER: '\uE007',
  CONTROL: '\uE009',
  ESCAPE: '\uE00C',
  END: '\uE010',
  HOME: '\uE011',
  DELETE: '\uE017',
};

export class WebDriverError extends Error {
  constructor(method, path, status, error, message) {
    super(`${method} ${path}: ${status} ${error}: ${message}`);
    this.error = error;
    this.status = status;
  }
}

/** Selector for a `data-testid`. */
export const tid = (id) => `[data-testid="${id}"]`;

export class Session {
  constructor(base, id, timeoutMs) {
    this.base = base;
    this.id = id;
    this.defaultTimeoutMs = timeoutMs;
  }

  /** POSTs a new session with the Tauri capability; retries while the driver warms up. */
  static async create(base, application, { args = [], timeoutMs = 10000 } = {}) {
    const body = {
      capabilities: { alwaysMatch: { 'tauri:options': { application, args } } },
    };
    const res = await request(base, 'POST', '/session', body, 120000);
    const id = res.sessionId ?? res.value?.sessionId;
    if (!id) throw new Error(`no session id in ${JSON.stringify(res).slice(0, 300)}`);
    return new Session(base, id, timeoutMs);
  }

  cmd(method, path, body) {
    return request(this.base, method, `/session/${this.id}${path}`, body).then((r) => r.value);
  }

  /** Ends the session (the native driver closes the app). Never throws. */
  async delete() {
    try {
      await request(this.base, 'DELETE', `/session/${this.id}`, undefined, 15000);
    } catch {
      /* the app may already be gone */
    }
  }

  async title() {
    return this.cmd('GET', '/title');
  }

  async url() {
    return this.cmd('GET', '/url');
  }

  /** Handles of the session's top-level browsing contexts (windows). */
  async windowHandles() {
    return this.cmd('GET', '/window/handles');
  }

  /** Makes `handle` the window the next commands go to. */
  async switchToWindow(handle) {
    return this.cmd('POST', '/window', { handle });
  }

  /**
   * Calls one of the app's own commands through Tauri's IPC in the page (what the UI's
   * bindings do), for figures the UI rounds away (today's Wh). Throws on an error result.
   */
  async invoke(command, args = {}) {
    const r = await this.cmd('POST', '/execute/async', {
      script:
        'const [cmd, args, done] = arguments;' +
        ' window.__TAURI_INTERNALS__.invoke(cmd, args).then((v) => done({ ok: v }), (e) => done({ err: e }));',
      args: [command, args],
    });
    if (r && 'err' in r) throw new Error(`${command}: ${JSON.stringify(r.err)}`);
    return r?.ok;
  }

  /** Runs JS in the page (`arguments` as usual); returns its value. */
  async execute(script, args = []) {
    return this.cmd('POST', '/execute/sync', { script, args });
  }

  /** One element by CSS selector, or null. */
  async find(selector) {
    try {
      const v = await this.cmd('POST', '/element', { using: 'css selector', value: selector });
      return new Element(this, v[ELEMENT]);
    } catch (err) {
      if (err instanceof WebDriverError && err.error === 'no such element') return null;
      throw err;
    }
  }

  /** All elements matching a CSS selector. */
  async findAll(selector) {
    const v = await this.cmd('POST', '/elements', { using: 'css selector', value: selector });
    return v.map((e) => new Element(this, e[ELEMENT]));
  }

  /** Waits until an element matching `selector` exists and is displayed. */
  async waitFor(selector, { timeoutMs = this.defaultTimeoutMs, visible = true } = {}) {
    const deadline = Date.now() + timeoutMs;
    let last = null;
    for (;;) {
      try {
        const el = await this.find(selector);
        if (el && (!visible || (await el.displayed()))) return el;
      } catch (err) {
        if (!(err instanceof WebDriverError && err.error === 'stale element reference')) last = err;
      }
      if (Date.now() > deadline) {
        const why = last ? ` (${last.message})` : '';
        throw new Error(`element ${selector} did not appear within ${timeoutMs / 1000} s${why}`);
      }
      await sleep(150);
    }
  }

  /** Waits for the element with this test id (shorthand). */
  byTestId(id, opts) {
    return this.waitFor(tid(id), opts);
  }

  /** Waits until `selector`'s text satisfies `pred`; returns the text. */
  async waitForText(selector, pred, what, { timeoutMs = this.defaultTimeoutMs } = {}) {
    const deadline = Date.now() + timeoutMs;
    let text = null;
    for (;;) {
      try {
        const el = await this.find(selector);
        if (el) {
          text = await el.text();
          if (pred(text)) return text;
        }
      } catch {
        /* re-rendered under us: try again */
      }
      if (Date.now() > deadline) {
        throw new Error(`${selector}: ${what} not seen within ${timeoutMs / 1000} s (last text: ${JSON.stringify(text)})`);
      }
      await sleep(250);
    }
  }

  /**
   * Waits until the page has painted what the DOM holds now (two animation frames, then a
   * short pause): under load WebKit's snapshot can otherwise show an older frame.
   */
  async settle(ms = 300) {
    try {
      await this.cmd('POST', '/execute/async', {
        script:
          'const done = arguments[arguments.length - 1]; setTimeout(() => done(false), 2000);' +
          ' requestAnimationFrame(() => requestAnimationFrame(() => done(true)));',
        args: [],
      });
    } catch {
      /* a hidden window paints no frames: the pause below still helps */
    }
    await sleep(ms);
  }

  /** PNG of the window's web content, once the page has painted. */
  async screenshot(file) {
    await this.settle();
    const b64 = await this.cmd('GET', '/screenshot');
    writeFileSync(file, Buffer.from(b64, 'base64'));
    return file;
  }

  /** The page's visible text (for failure reports). */
  async bodyText() {
    return this.execute('return document.body ? document.body.innerText : ""');
  }
}

export class Element {
  constructor(session, id) {
    this.s = session;
    this.id = id;
  }

  cmd(method, path, body) {
    return this.s.cmd(method, `/element/${this.id}${path}`, body);
  }

  click() {
    return this.cmd('POST', '/click', {});
  }

  text() {
    return this.cmd('GET', '/text');
  }

  attribute(name) {
    return this.cmd('GET', `/attribute/${encodeURIComponent(name)}`);
  }

  property(name) {
    return this.cmd('GET', `/property/${encodeURIComponent(name)}`);
  }

  displayed() {
    return this.cmd('GET', '/displayed');
  }

  enabled() {
    return this.cmd('GET', '/enabled');
  }

  clear() {
    return this.cmd('POST', '/clear', {});
  }

  sendKeys(text) {
    return this.cmd('POST', '/value', { text });
  }

  /**
   * Replaces the input's value by typing, as a person would: select everything, delete,
   * type. Verifies the value took (a framework that missed the events would show it).
   */
  async fill(value) {
    await this.click();
    await this.sendKeys(`${Keys.CONTROL}a${Keys.NULL}${Keys.BACKSPACE}`);
    let now = await this.property('value');
    if (now !== '') {
      await this.clear();
      now = await this.property('value');
    }
    await this.sendKeys(String(value));
    now = await this.property('value');
    if (String(now) !== String(value)) {
      throw new Error(`typed ${JSON.stringify(String(value))} but the input holds ${JSON.stringify(now)}`);
    }
  }
}

/** One HTTP round trip to the driver; throws WebDriverError on a WebDriver error. */
export async function request(base, method, path, body, timeoutMs = 60000) {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), timeoutMs);
  let res;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: ctrl.signal,
    });
  } catch (err) {
    const why = err.name === 'AbortError' ? `no answer within ${timeoutMs / 1000} s` : err.cause?.message ?? err.message;
    throw new Error(`${method} ${path}: ${why}`);
  } finally {
    clearTimeout(timer);
  }
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    throw new Error(`${method} ${path}: ${res.status} non-JSON answer: ${text.slice(0, 200)}`);
  }
  const v = json.value;
  if (!res.ok || (v && typeof v === 'object' && typeof v.error === 'string')) {
    throw new WebDriverError(method, path, res.status, v?.error ?? 'unknown error', v?.message ?? text.slice(0, 200));
  }
  return json;
}

/** Waits until the driver's /status says ready. */
export async function waitReady(base, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const r = await request(base, 'GET', '/status', undefined, 2000);
      if (r.value?.ready !== false) return;
      last = JSON.stringify(r.value);
    } catch (err) {
      last = err.message;
    }
    await sleep(200);
  }
  throw new Error(`WebDriver at ${base} not ready within ${timeoutMs / 1000} s (${last})`);
}
