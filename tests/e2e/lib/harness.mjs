// The E2E harness: one object that owns the private desktop (Xvfb, D-Bus, gnome-keyring,
// trayer, a notification server), tauri-driver with WebKitWebDriver, the fresh state
// folders of this run, and the app session(s). The scenario asks it to launch, kill and
// relaunch the app; teardown stops everything by PID whatever happened.

import { mkdirSync, mkdtempSync, rmSync, existsSync, realpathSync, copyFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { log, warn } from './log.mjs';
import { start, stopAll, freePort, processTable, descendants, killPid, waitFor, run, alive } from './procs.mjs';
import { startXvfb, startDbus, startKeyring, startTrayer, startNotificationMonitor } from './desktop.mjs';
import { Session, waitReady } from './webdriver.mjs';
import { screenshotRoot } from './tray.mjs';

export class Harness {
  /**
   * opts: { app, tauriDriver, nativeDriver, outDir, keep, appEnv }
   * appEnv: extra environment for the app (test hooks), merged over the private desktop's.
   */
  constructor(opts) {
    this.opts = opts;
    this.app = realpathSync(opts.app);
    this.session = null;
    this.shots = [];
    this.notes = [];
  }

  /** Starts the private desktop and tauri-driver. */
  async setUp() {
    const o = this.opts;
    // A kept state folder (--state) is reused as it is: debugging a later step without
    // replaying onboarding. Otherwise a fresh one.
    this.tmp = o.stateDir ?? mkdtempSync(join(tmpdir(), 'idlewatt-e2e-'));
    this.logDir = join(o.outDir, 'logs');
    this.shotDir = join(o.outDir, 'screenshots');
    rmSync(o.outDir, { recursive: true, force: true });
    mkdirSync(this.logDir, { recursive: true });
    mkdirSync(this.shotDir, { recursive: true });
    log(`state in ${this.tmp}; screenshots and logs in ${o.outDir}`);

    // Fresh folders for everything the app and WebKit write: nothing of the machine's
    // own user leaks in, and the kill-and-restart step reuses the same ones.
    const dirs = {
      HOME: join(this.tmp, 'home'),
      IDLEWATT_DATA_DIR: join(this.tmp, 'idlewatt-data'),
      XDG_DATA_HOME: join(this.tmp, 'xdg-data'),
      XDG_CONFIG_HOME: join(this.tmp, 'xdg-config'),
      XDG_CACHE_HOME: join(this.tmp, 'xdg-cache'),
      XDG_STATE_HOME: join(this.tmp, 'xdg-state'),
      XDG_RUNTIME_DIR: join(this.tmp, 'xdg-runtime'),
    };
    for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true, mode: 0o700 });
    this.dirs = dirs;

    this.display = await startXvfb(this.logDir);
    log(`X display ${this.display}`);
    this.bus = await startDbus(join(this.tmp, 'bus'), this.logDir);
    log(`D-Bus ${this.bus}`);
    await startKeyring(this.bus, join(this.tmp, 'keyring-home'), this.logDir);
    await startTrayer(this.display, this.logDir);
    this.notifyLog = join(this.logDir, 'notifications.log');
    startNotificationMonitor(this.bus, this.notifyLog);
    // A real notification server (dunst) so the app's notifications are delivered and
    // visible on screen, as on a desktop; dbus-monitor above records them.
    start('dunst', 'dunst', [], {
      env: { ...process.env, DISPLAY: this.display, DBUS_SESSION_BUS_ADDRESS: this.bus, HOME: dirs.HOME, XDG_CONFIG_HOME: dirs.XDG_CONFIG_HOME },
      logFile: join(this.logDir, 'dunst.log'),
    });

    this.env = {
      PATH: process.env.PATH,
      LANG: 'C.UTF-8',
      LANGUAGE: 'en',
      ...dirs,
      DISPLAY: this.display,
      DBUS_SESSION_BUS_ADDRESS: this.bus,
      IDLEWATT_LOG: process.env.IDLEWATT_LOG ?? 'info',
      RUST_BACKTRACE: '1',
      ...o.appEnv,
    };

    const port = await freePort();
    let nativePort = await freePort();
    while (nativePort === port) nativePort = await freePort();
    this.driver = start(
      'tauri-driver',
      o.tauriDriver,
      ['--port', String(port), '--native-port', String(nativePort), '--native-driver', o.nativeDriver],
      { env: this.env, logFile: join(this.logDir, 'tauri-driver.log') },
    );
    this.base = `http://127.0.0.1:${port}`;
    await waitReady(this.base);
    log(`tauri-driver on ${this.base} (native ${nativePort})`);
  }

  /** Starts the app in a new WebDriver session and waits for its process. */
  async launch() {
    const before = new Set(this.appPids());
    this.session = await Session.create(this.base, this.app, {
      args: this.opts.appArgs ?? [], timeoutMs: this.opts.elementTimeoutMs ?? 15000 });
    this.appPid = await waitFor(
      'the app process',
      () => this.appPids().find((p) => !before.has(p)),
      { timeoutMs: 20000 },
    );
    log(`app running (pid ${this.appPid}), session ${this.session.id}`);
    return this.session;
  }

  /** PIDs of the app binary among tauri-driver's descendants. */
  appPids() {
    if (!this.driver) return [];
    return descendants(this.driver.pid, processTable())
      .filter((p) => p.exe === this.app && p.state !== 'Z')
      .map((p) => p.pid);
  }

  /** SIGKILLs the app (a crash, a power cut of the process) and forgets its session. */
  async killApp() {
    const pid = this.appPid;
    await killPid(pid);
    log(`app pid ${pid} killed with SIGKILL`);
    const s = this.session;
    this.session = null;
    if (s) await s.delete();
    this.appPid = null;
  }

  /** Waits until the app process exits by itself (Quit from the tray). */
  async waitAppExit(timeoutMs) {
    const pid = this.appPid;
    await waitFor(`app pid ${pid} to exit`, () => !alive(pid), { timeoutMs, intervalMs: 200 });
    this.appPid = null;
    const s = this.session;
    this.session = null;
    if (s) await s.delete();
  }

  /** Screenshot of the web content; `docs: false` keeps it out of docs/screenshots. */
  async shot(name, { docs = true } = {}) {
    const file = join(this.shotDir, `${name}.png`);
    await this.session.screenshot(file);
    this.shots.push({ name, file, docs });
    log(`screenshot ${file}`);
    return file;
  }

  /** Screenshot of the whole X screen (tray, menus, notifications). */
  async shotScreen(name, { docs = true } = {}) {
    const file = join(this.shotDir, `${name}.png`);
    await screenshotRoot({ ...process.env, DISPLAY: this.display }, file);
    this.shots.push({ name, file, docs });
    log(`screen shot ${file}`);
    return file;
  }

  /** Best-effort evidence after a failure: both screenshots and the page's text. */
  async captureFailure(tag = '') {
    try {
      if (this.display) await this.shotScreen(`FAILED${tag}-screen`, { docs: false });
    } catch (err) {
      warn(`no screen shot: ${err.message}`);
    }
    if (this.session) {
      try {
        await this.shot(`FAILED${tag}-window`, { docs: false });
      } catch (err) {
        warn(`no window screenshot: ${err.message}`);
      }
      try {
        const text = await this.session.bodyText();
        writeFileSync(join(this.logDir, `FAILED${tag}-page.txt`), text);
        warn(`page text at failure:\n${String(text).slice(0, 2000)}`);
      } catch (err) {
        warn(`no page text: ${err.message}`);
      }
    }
  }

  /** The app's own log files (copied into the output folder for CI artifacts). */
  collectAppLogs() {
    const found = [];
    const walk = (dir, depth) => {
      if (depth > 6 || !existsSync(dir)) return;
      for (const ent of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, ent.name);
        if (ent.isDirectory()) walk(p, depth + 1);
        else if (/\.log(\.|$)|^idlewatt.*\.log/.test(ent.name)) found.push(p);
      }
    };
    for (const d of [this.dirs?.XDG_DATA_HOME, this.dirs?.IDLEWATT_DATA_DIR, this.dirs?.XDG_CACHE_HOME]) if (d) walk(d, 0);
    for (const f of found) {
      try {
        copyFileSync(f, join(this.logDir, `app-${f.split('/').slice(-1)[0]}`));
      } catch {
        /* rotated away */
      }
    }
    return found;
  }

  /**
   * Copies the screenshots meant for the README into docs/screenshots (`aliases`: a copy
   * under another name too, the one the README links to).
   */
  updateDocs(docsDir, aliases = {}) {
    mkdirSync(docsDir, { recursive: true });
    for (const s of this.shots.filter((x) => x.docs)) {
      copyFileSync(s.file, join(docsDir, `${s.name}.png`));
      if (aliases[s.name]) copyFileSync(s.file, join(docsDir, `${aliases[s.name]}.png`));
    }
    log(`updated ${docsDir} (${this.shots.filter((x) => x.docs).length} screenshots)`);
  }

  /** Stops everything this run started, by PID, and removes the temp state. */
  async tearDown() {
    if (this.session) await this.session.delete();
    this.session = null;
    try {
      this.collectAppLogs();
    } catch (err) {
      warn(`collecting app logs: ${err.message}`);
    }
    await stopAll();
    if (this.tmp && !this.opts.keep && !this.opts.stateDir) rmSync(this.tmp, { recursive: true, force: true });
    else if (this.tmp) log(`kept state in ${this.tmp}`);
  }
}

export { run };
