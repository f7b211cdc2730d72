#!/usr/bin/env node
// The E2E runner: starts a private desktop, tauri-driver and the real Idlewatt app window,
// then plays the owner's scenario (scenario.mjs) against it, with screenshots of every
// screen, a global timeout, and teardown by PID on success, failure or interruption.
//
//   node tests/e2e/run.mjs [--app PATH] [--out DIR] [--timeout SECONDS] [--update-screenshots]
//                          [--smoke] [--keep] [--app-arg ARG]... [--between-restarts CMD]
//
// --app        the idlewatt-app binary (default: $CARGO_TARGET_DIR/debug/idlewatt-app)
// --out        screenshots and logs of this run (default: e2e-output/ in the repository)
// --timeout    the whole run's limit in seconds (default 1200)
// --update-screenshots   copy this run's screenshots into docs/screenshots/ (for the README)
// --smoke      only start the window, take one screenshot and measure memory: checks the
//              harness itself with any WebKitGTK app (even MiniBrowser)
// --app-arg    an argument for the app (repeatable; MiniBrowser needs --automation)
// --keep       keep the run's temporary state folders (printed at the end)
// --between-restarts  a shell command run while the app is down in the scenario's
//              kill-and-restart step (scripts/install-test removes and reinstalls the
//              package there: the wallet, history and settings must survive it); the
//              step fails when the command exits non-zero
// Exit code 0 when every step passed, 1 otherwise.

import { existsSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { homedir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Harness } from './lib/harness.mjs';
import { log, warn, elapsed, softFailures } from './lib/log.mjs';
import { scenario, smoke } from './scenario.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function parseArgs(argv) {
  const o = {
    app: null,
    appArgs: [],
    out: join(repo, 'e2e-output'),
    timeoutS: 1200,
    updateScreenshots: false,
    smoke: false,
    keep: false,
    betweenRestarts: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--app') o.app = resolve(value());
    else if (a === '--app-arg') o.appArgs.push(value());
    else if (a === '--out') o.out = resolve(value());
    else if (a === '--timeout') o.timeoutS = Number(value());
    else if (a === '--update-screenshots') o.updateScreenshots = true;
    else if (a === '--smoke') o.smoke = true;
    else if (a === '--keep') o.keep = true;
    else if (a === '--between-restarts') o.betweenRestarts = value();
    else if (a === '-h' || a === '--help') {
      console.log('usage: node tests/e2e/run.mjs [--app PATH] [--out DIR] [--timeout S] [--update-screenshots] [--smoke] [--keep]');
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (see --help)`);
  }
  if (!(o.timeoutS > 0)) throw new Error('--timeout must be a positive number of seconds');
  return o;
}

function findTool(name, candidates) {
  for (const c of candidates) if (c && existsSync(c)) return c;
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = join(dir, name);
    if (dir && existsSync(p)) return p;
  }
  throw new Error(`${name} not found (scripts/setup installs it; looked in ${candidates.filter(Boolean).join(', ')} and PATH)`);
}

async function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`e2e: ${err.message}`);
    process.exit(2);
  }
  const target = process.env.CARGO_TARGET_DIR ?? join(homedir(), '.cache', 'idlewatt-target');
  const app = o.app ?? join(target, 'debug', 'idlewatt-app');
  if (!existsSync(app)) {
    console.error(`e2e: no app binary at ${app}: build it first (npm run build:ui && cargo build -p idlewatt-app)`);
    process.exit(2);
  }
  const tools = process.env.IDLEWATT_TOOLS ?? join(homedir(), '.cache', 'idlewatt-tools');
  const harness = new Harness({
    app,
    appArgs: o.appArgs,
    tauriDriver: findTool('tauri-driver', [join(tools, 'bin', 'tauri-driver')]),
    nativeDriver: findTool('WebKitWebDriver', ['/usr/bin/WebKitWebDriver']),
    outDir: o.out,
    keep: o.keep,
    betweenRestarts: o.betweenRestarts,
    appEnv: o.smoke ? {} : scenario.appEnv,
  });

  let failed = null;
  let tornDown = false;
  const tearDown = async () => {
    if (tornDown) return;
    tornDown = true;
    await harness.tearDown();
  };
  const onSignal = async (sig) => {
    warn(`${sig}: stopping`);
    await tearDown();
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the whole run exceeded its ${o.timeoutS} s limit`)), o.timeoutS * 1000);
  });
  try {
    await Promise.race([
      (async () => {
        await harness.setUp();
        await (o.smoke ? smoke(harness) : scenario.run(harness));
      })(),
      timeout,
    ]);
  } catch (err) {
    failed = err;
    warn(`FAILED: ${err.message}`);
    if (err.cause?.stack) warn(err.cause.stack.split('\n').slice(0, 6).join('\n'));
    await harness.captureFailure();
  } finally {
    clearTimeout(timer);
  }
  // Screenshots go to the docs when the scenario ran to its end (a failed non-critical
  // step leaves only its FAILED-* shots, which never go there).
  if (!failed && o.updateScreenshots) harness.updateDocs(join(repo, 'docs', 'screenshots'), o.smoke ? {} : scenario.docsAliases);
  if (!failed && softFailures.length) {
    failed = new Error(`${softFailures.length} step(s) failed:\n${softFailures.map((f) => `  - ${f.name}: ${f.error}`).join('\n')}`);
  }
  await tearDown();

  log('screenshots of this run:');
  for (const s of harness.shots) log(`  ${s.file}${s.docs ? '' : '  (not for docs)'}`);
  for (const note of harness.notes) log(note);
  if (failed) {
    console.error(`\ne2e: FAILED after ${elapsed().trim()} s: ${failed.message}\n    logs: ${join(o.out, 'logs')}`);
    process.exit(1);
  }
  log(`e2e: all steps passed in ${elapsed().trim()} s`);
  process.exit(0);
}

main();
