// Drives the app's tray icon as an owner would: trayer hosts the icon (XEmbed), xdotool
// finds the icon's window, clicks it to open the menu, and picks an item with Down/Return.
// Linux tray icons get no click actions of their own, so every action is a menu item
// (DESIGN §8); menus have no accessible labels under X, so items are picked by position in
// the order the shell documents (docs/app-ipc.md, "Tray menu"), and a screenshot of the
// whole screen shows the open menu.

import { join } from 'node:path';
import { run, sleep, waitFor } from './procs.mjs';
import { log } from './log.mjs';

export class Tray {
  constructor(display, { menuItems, classNames = [] }) {
    this.env = { ...process.env, DISPLAY: display };
    this.menuItems = menuItems;
    this.classNames = classNames;
  }

  async xdotool(...args) {
    const r = await run('xdotool', args, { env: this.env, timeoutMs: 10000 });
    if (r.code !== 0 && args[0] !== 'search') throw new Error(`xdotool ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.code}`}`);
    return r.stdout.trim();
  }

  /** Window ids of trayer's panel: the icon is docked inside one of them. */
  async panelWindows() {
    const out = await this.xdotool('search', '--classname', 'panel');
    return out ? out.split('\n').map(Number) : [];
  }

  /**
   * The icon's X window: first by the class names the shell gives it, else the window
   * embedded in trayer with a visible size (xwininfo -tree of the panel).
   */
  async iconWindow() {
    for (const cls of this.classNames) {
      const ids = await this.xdotool('search', '--onlyvisible', '--classname', cls);
      if (ids) return Number(ids.split('\n')[0]);
    }
    for (const panel of await this.panelWindows()) {
      const r = await run('xwininfo', ['-tree', '-id', String(panel)], { env: this.env, timeoutMs: 5000 });
      // Children lines: "     0x1a00003 "name": ("res" "Class")  22x22+0+0  +1240+5"
      for (const line of r.stdout.split('\n')) {
        const m = /^\s+(0x[0-9a-f]+) .*?(\d+)x(\d+)\+-?\d+\+-?\d+\s+\+(-?\d+)\+(-?\d+)/.exec(line);
        if (m && Number(m[2]) >= 8 && Number(m[3]) >= 8 && Number(m[2]) <= 64) return Number(m[1]);
      }
    }
    return null;
  }

  /** Waits until the icon is docked; returns its window id. */
  async waitForIcon(timeoutMs = 20000) {
    const id = await waitFor('the tray icon docked in trayer', () => this.iconWindow(), { timeoutMs, intervalMs: 300 });
    log(`tray icon window ${id.toString(16)}`);
    return id;
  }

  /** Clicks the icon and waits for a menu window to map. */
  async openMenu(button = 1) {
    const id = await this.waitForIcon();
    await this.xdotool('mousemove', '--window', String(id), '8', '8');
    await this.xdotool('click', String(button));
    await sleep(700); // the menu maps and grabs the keyboard
  }

  /** Closes an open menu without choosing. */
  async closeMenu() {
    await this.xdotool('key', 'Escape');
  }

  /**
   * Opens the menu and picks the item named `label` (a key of `menuItems`, whose value is
   * its 0-based position). Takes a screenshot of the whole screen with the menu open
   * when `shot` is given.
   */
  async choose(label, { shot } = {}) {
    const index = this.menuItems[label];
    if (index === undefined) throw new Error(`no tray menu item "${label}" in ${JSON.stringify(this.menuItems)}`);
    await this.openMenu();
    for (let i = 0; i <= index; i++) {
      await this.xdotool('key', 'Down');
      await sleep(80);
    }
    if (shot) await screenshotRoot(this.env, shot);
    await this.xdotool('key', 'Return');
    await sleep(300);
    // Moving the pointer away would reset the X idle timer; leave it where it is.
  }
}

/** A PNG of the whole X screen (ImageMagick's import), e.g. to show an open tray menu. */
export async function screenshotRoot(env, file) {
  const r = await run('import', ['-window', 'root', file], { env, timeoutMs: 15000 });
  if (r.code !== 0) throw new Error(`import -window root: ${r.stderr.trim()}`);
  return file;
}

export { join };
