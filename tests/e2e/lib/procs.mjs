// Processes the E2E run starts, and how it stops them: every child is registered here
// and stopped by its process id (SIGTERM, then SIGKILL after a grace period), in the
// reverse order of starting, also when a step fails or the global timeout fires. The app
// itself is a grandchild (tauri-driver → WebKitWebDriver → app), so this module also
// finds descendants of a PID through /proc. Never kills by name.

import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync, openSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { log, warn } from './log.mjs';

/** Started processes, newest last: { name, child, pid }. */
const started = [];

/**
 * Starts a process and registers it for teardown. stdout/stderr go to `logFile` when
 * given (appended), else are ignored unless `pipeStdout` asks for a pipe on stdout.
 */
export function start(name, cmd, args, { env, logFile, pipeStdout = false, stdin = 'ignore', extraFds = [] } = {}) {
  let out = 'ignore';
  let fd = null;
  if (logFile) {
    fd = openSync(logFile, 'a');
    out = fd;
  }
  const child = spawn(cmd, args, {
    env: env ?? process.env,
    stdio: [stdin, pipeStdout ? 'pipe' : out, out, ...extraFds],
  });
  if (fd !== null) closeSync(fd);
  const entry = { name, child, pid: child.pid, exited: false, code: null };
  child.on('exit', (code, signal) => {
    entry.exited = true;
    entry.code = code ?? signal;
  });
  child.on('error', (err) => {
    entry.exited = true;
    entry.error = err;
  });
  if (!child.pid) throw new Error(`could not start ${name} (${cmd}): is it installed? (scripts/setup installs it)`);
  started.push(entry);
  log(`started ${name} (pid ${child.pid})`);
  return entry;
}

/** Whether a PID is alive (signal 0). A zombie counts as dead. */
export function alive(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return procState(stat) !== 'Z';
  } catch {
    return false;
  }
}

function procState(stat) {
  // "pid (comm) S ppid ..." — comm may contain spaces and parentheses.
  const close = stat.lastIndexOf(')');
  return stat.slice(close + 2, close + 3);
}

function procPpid(stat) {
  const close = stat.lastIndexOf(')');
  return Number(stat.slice(close + 2).split(' ')[1]);
}

/** Every live process as { pid, ppid, comm, exe }. */
export function processTable() {
  const rows = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      let exe = null;
      try {
        exe = readlinkSync(`/proc/${pid}/exe`);
      } catch {
        /* exited or not ours */
      }
      rows.push({ pid, ppid: procPpid(stat), comm, exe, state: procState(stat) });
    } catch {
      /* raced with exit */
    }
  }
  return rows;
}

/** All descendants of `pid` (children, grandchildren, …), in no particular order. */
export function descendants(pid, table = processTable()) {
  const byParent = new Map();
  for (const row of table) {
    if (!byParent.has(row.ppid)) byParent.set(row.ppid, []);
    byParent.get(row.ppid).push(row);
  }
  const out = [];
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift();
    for (const row of byParent.get(p) ?? []) {
      out.push(row);
      queue.push(row.pid);
    }
  }
  return out;
}

/** Sends SIGTERM, waits up to `graceMs`, then SIGKILL; resolves when the PID is gone. */
export async function stopPid(pid, name = `pid ${pid}`, graceMs = 3000) {
  if (!alive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!alive(pid)) return;
    await sleep(50);
  }
  warn(`${name} ignored SIGTERM for ${graceMs} ms; SIGKILL`);
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  const hard = Date.now() + 2000;
  while (Date.now() < hard && alive(pid)) await sleep(50);
}

/** SIGKILL a PID and wait until it is gone (the crash the kill-and-restart test simulates). */
export async function killPid(pid, timeoutMs = 5000) {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && alive(pid)) await sleep(50);
  if (alive(pid)) throw new Error(`pid ${pid} still alive ${timeoutMs} ms after SIGKILL`);
}

/**
 * Stops one registered process and its descendants (which it started for us: the
 * native driver, the app, WebKit's helpers), children first so none is orphaned.
 */
export async function stopEntry(entry) {
  // Deepest first, so that no descendant is orphaned (tauri-driver 2.1 leaves its
  // WebKitWebDriver running when it gets SIGTERM), then the process itself; then check.
  const kids = descendants(entry.pid).reverse();
  for (const kid of kids) await stopPid(kid.pid, `${entry.name} descendant ${kid.comm}`, 1500);
  await stopPid(entry.pid, entry.name);
  for (const p of [...kids.map((k) => k.pid), entry.pid]) {
    if (alive(p)) warn(`pid ${p} (${entry.name} or its descendant) is still alive after teardown`);
  }
  entry.exited = true;
  const i = started.indexOf(entry);
  if (i >= 0) started.splice(i, 1);
}

/** Stops every registered process, newest first. Never throws. */
export async function stopAll() {
  while (started.length) {
    const entry = started[started.length - 1];
    try {
      await stopEntry(entry);
      log(`stopped ${entry.name} (pid ${entry.pid})`);
    } catch (err) {
      warn(`stopping ${entry.name}: ${err.message}`);
      started.pop();
    }
  }
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Runs a command to completion; resolves { code, stdout, stderr }. Rejects after timeoutMs. */
export function run(cmd, args, { env, timeoutMs = 30000, input } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      reject(new Error(`${cmd} ${args.join(' ')} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${cmd}: ${err.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes; then throws `what`. */
export async function waitFor(what, fn, { timeoutMs = 10000, intervalMs = 200 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const why = last ? ` (last error: ${last.message})` : '';
      throw new Error(`timed out after ${(timeoutMs / 1000).toFixed(0)} s waiting for ${what}${why}`);
    }
    await sleep(intervalMs);
  }
}
