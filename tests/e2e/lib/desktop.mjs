// A throw-away desktop for the app, like an owner's but private to this run: an X server
// (Xvfb picks its own display with -displayfd; -noreset keeps its idle timer when clients
// disconnect), a private D-Bus session bus that activates nothing, an unlocked
// gnome-keyring on it (the Secret Service the wallet needs) and trayer as the tray host.
// The same recipe as tests/util/{xvfb,keyring}.rs; every process is stopped by PID.

import { mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { start, run, waitFor } from './procs.mjs';
import { log } from './log.mjs';

/** Reads the first line a child prints on stdout (its display number, its bus address). */
function firstLine(child, what, timeoutMs = 15000) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`${what}: printed nothing within ${timeoutMs} ms`)), timeoutMs);
    child.stdout.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        child.stdout.removeAllListeners('data');
        child.stdout.resume(); // keep draining so the child never blocks on a full pipe
        resolve(buf.slice(0, nl).trim());
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) before printing`));
    });
  });
}

/** Starts Xvfb; returns ":N". */
export async function startXvfb(logDir) {
  const entry = start(
    'Xvfb',
    'Xvfb',
    ['-displayfd', '1', '-noreset', '-nolisten', 'tcp', '-screen', '0', '1280x800x24'],
    { pipeStdout: true, logFile: join(logDir, 'xvfb.log') },
  );
  const n = await firstLine(entry.child, 'Xvfb');
  if (!/^\d+$/.test(n)) throw new Error(`Xvfb printed ${JSON.stringify(n)} instead of a display number`);
  return `:${n}`;
}

/** A session bus configuration listening in `dir`, allowing everything, activating nothing. */
function busConfig(dir) {
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=${dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`;
}

/** Starts a private session bus; returns its address. */
export async function startDbus(dir, logDir) {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o700);
  const config = join(dir, 'session.conf');
  writeFileSync(config, busConfig(dir));
  const entry = start(
    'dbus-daemon',
    'dbus-daemon',
    [`--config-file=${config}`, '--nofork', '--nopidfile', '--print-address=1'],
    { pipeStdout: true, logFile: join(logDir, 'dbus.log') },
  );
  const address = await firstLine(entry.child, 'dbus-daemon');
  if (!address.startsWith('unix:')) throw new Error(`dbus-daemon printed ${JSON.stringify(address)}`);
  return address;
}

async function dbusSend(busAddress, args) {
  const env = { ...process.env, DBUS_SESSION_BUS_ADDRESS: busAddress };
  return run('dbus-send', ['--session', '--print-reply', ...args], { env, timeoutMs: 5000 });
}

/**
 * Starts gnome-keyring (secrets only) on the bus, unlocked with a throw-away password, and
 * waits until the Secret Service answers with the login keyring as its default.
 */
export async function startKeyring(busAddress, home, logDir) {
  const runtime = join(home, 'keyring-run');
  mkdirSync(runtime, { recursive: true });
  chmodSync(runtime, 0o700);
  const env = {
    ...process.env,
    DBUS_SESSION_BUS_ADDRESS: busAddress,
    HOME: home,
    XDG_DATA_HOME: join(home, 'keyring-data'),
    XDG_RUNTIME_DIR: runtime,
  };
  const entry = start('gnome-keyring-daemon', 'gnome-keyring-daemon', ['--unlock', '--components=secrets', '--foreground'], {
    env,
    stdin: 'pipe',
    logFile: join(logDir, 'gnome-keyring.log'),
  });
  // The password with no newline, then EOF: --unlock reads it before serving.
  entry.child.stdin.end('idlewatt-e2e');
  await waitFor(
    'gnome-keyring to own org.freedesktop.secrets',
    async () => {
      const r = await dbusSend(busAddress, [
        '--dest=org.freedesktop.DBus',
        '/org/freedesktop/DBus',
        'org.freedesktop.DBus.NameHasOwner',
        'string:org.freedesktop.secrets',
      ]);
      return r.stdout.includes('boolean true');
    },
    { timeoutMs: 20000, intervalMs: 100 },
  );
  await waitFor(
    "gnome-keyring's login keyring",
    async () => {
      const r = await dbusSend(busAddress, [
        '--dest=org.freedesktop.secrets',
        '/org/freedesktop/secrets',
        'org.freedesktop.Secret.Service.ReadAlias',
        'string:default',
      ]);
      return r.stdout.includes('/org/freedesktop/secrets/collection/login');
    },
    { timeoutMs: 20000, intervalMs: 100 },
  );
  log('keyring unlocked');
}

/** Starts trayer (the XEmbed tray host the app's icon docks into) and waits for its window. */
export async function startTrayer(display, logDir) {
  const env = { ...process.env, DISPLAY: display };
  start('trayer', 'trayer', ['--edge', 'top', '--align', 'right', '--widthtype', 'request', '--height', '32', '--SetDockType', 'true'], {
    env,
    logFile: join(logDir, 'trayer.log'),
  });
  await waitFor(
    'the trayer panel window',
    async () => (await run('xdotool', ['search', '--classname', 'panel'], { env, timeoutMs: 5000 })).stdout.trim(),
    { timeoutMs: 10000 },
  );
}

/**
 * Records every desktop notification the app sends (method calls to
 * org.freedesktop.Notifications on the private bus) into `file`, through dbus-monitor.
 */
export function startNotificationMonitor(busAddress, file) {
  const env = { ...process.env, DBUS_SESSION_BUS_ADDRESS: busAddress };
  start('dbus-monitor', 'dbus-monitor', ['--session', "type='method_call',interface='org.freedesktop.Notifications'"], {
    env,
    logFile: file,
  });
}
