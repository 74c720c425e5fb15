// Runs the real VS Code of code-server with the packaged extension, and drives it from Debian's
// Chromium with playwright-core. Used by the real-editor suite (vscode.test.ts) and by
// `npm run editor-demo` (scripts/editor-demo.mjs). What it needs is installed by
// scripts/editor-setup.sh into a cache folder, described by its ready.json.
import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const EXTENSION_ID = 'firewall-lens.firewall-lens';

export interface EditorSetup {
  node: string;
  nodeBin: string;
  codeServer: string;
  codeServerVersion: string;
  chromium: string;
}

export function cacheDir(): string {
  return process.env.FWLENS_EDITOR_CACHE || join(homedir(), '.cache', 'fwlens-editor');
}

/** What scripts/editor-setup.sh installed, or undefined when it has not run (or not finished). */
export function readSetup(): EditorSetup | undefined {
  const file = join(cacheDir(), 'ready.json');
  if (!existsSync(file)) return undefined;
  const s = JSON.parse(readFileSync(file, 'utf8')) as EditorSetup;
  for (const p of [s.node, s.codeServer, s.chromium]) if (!existsSync(p)) return undefined;
  return s;
}

/** Runs scripts/editor-setup.sh (installs what is missing; quick when everything is there). */
export function runSetup(): EditorSetup {
  const r = spawnSync('bash', [join(ROOT, 'scripts/editor-setup.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`scripts/editor-setup.sh failed (exit ${r.status})`);
  const s = readSetup();
  if (!s) throw new Error('scripts/editor-setup.sh finished but ready.json is missing');
  return s;
}

/** `npm run package` without npm: a production build and a .vsix at `out`. */
export function packageExtension(out: string): { vsix: string; bytes: number } {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/package.mjs'), '--out', out], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`scripts/package.mjs failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return { vsix: out, bytes: statSync(out).size };
}

export interface Profile {
  /** VS Code's user data (settings, state): fresh for each run. */
  userDataDir: string;
  extensionsDir: string;
  /** code-server's own config and data (XDG dirs), kept out of $HOME. */
  xdgDir: string;
}

export function freshProfile(base: string, settings: Record<string, unknown> = {}): Profile {
  const p: Profile = { userDataDir: join(base, 'user-data'), extensionsDir: join(base, 'extensions'), xdgDir: join(base, 'xdg') };
  for (const d of Object.values(p)) mkdirSync(d, { recursive: true });
  mkdirSync(join(p.userDataDir, 'User'), { recursive: true });
  writeFileSync(join(p.userDataDir, 'User', 'settings.json'), JSON.stringify({ ...QUIET_SETTINGS, ...settings }, null, 2));
  writeFileSync(join(p.xdgDir, 'config.yaml'), 'auth: none\n');
  return p;
}

/** VS Code settings for a quiet, deterministic window with no network traffic of its own. */
export const QUIET_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'chat.disableAIFeatures': true,
  'git.enabled': false,
  'npm.autoDetect': 'off',
  'editor.hover.delay': 200,
  'editor.minimap.enabled': false,
  'files.hotExit': 'off',
  'files.autoSave': 'off',
  'security.workspace.trust.startupPrompt': 'never',
  'security.workspace.trust.banner': 'never',
  'workbench.colorTheme': 'Default Dark Modern',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.layoutControl.enabled': false,
};

function codeServerEnv(setup: EditorSetup, profile: Profile): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Node 24 first on PATH, for code-server only.
  env.PATH = `${setup.nodeBin}:${process.env.PATH ?? ''}`;
  env.XDG_CONFIG_HOME = join(profile.xdgDir, 'config');
  env.XDG_DATA_HOME = join(profile.xdgDir, 'data');
  env.XDG_CACHE_HOME = join(profile.xdgDir, 'cache');
  // No gallery (Open VSX) and no telemetry: nothing to reach beyond localhost.
  env.EXTENSIONS_GALLERY = JSON.stringify({ serviceUrl: '', itemUrl: '', resourceUrlTemplate: '' });
  delete env.NODE_OPTIONS;
  delete env.VSCODE_IPC_HOOK_CLI;
  return env;
}

function codeServerArgs(profile: Profile): string[] {
  return [
    '--config', join(profile.xdgDir, 'config.yaml'),
    '--user-data-dir', profile.userDataDir,
    '--extensions-dir', profile.extensionsDir,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
  ];
}

/** `code-server --install-extension VSIX` into the profile; returns `--list-extensions --show-versions`. */
export function installExtension(setup: EditorSetup, profile: Profile, vsix: string): string {
  const env = codeServerEnv(setup, profile);
  const args = [setup.codeServer, ...codeServerArgs(profile)];
  const r = spawnSync(setup.node, [...args, '--force', '--install-extension', vsix], { env, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`code-server --install-extension failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  const l = spawnSync(setup.node, [...args, '--list-extensions', '--show-versions'], { env, encoding: 'utf8', timeout: 60_000 });
  return `${r.stdout}\n${l.stdout}`;
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => res(port));
    });
  });
}

export interface RunningCodeServer {
  url: string;
  port: number;
  process: ChildProcess;
  log: () => string;
  stop: () => Promise<void>;
}

/** Starts code-server on 127.0.0.1 (a free port unless given), opening `folder`; resolves when it answers. */
export async function startCodeServer(setup: EditorSetup, profile: Profile, folder: string, opts: { port?: number; timeoutMs?: number } = {}): Promise<RunningCodeServer> {
  const port = opts.port ?? (await freePort());
  const args = [
    setup.codeServer, ...codeServerArgs(profile),
    '--bind-addr', `127.0.0.1:${port}`,
    '--auth', 'none',
    '--ignore-last-opened',
    folder,
  ];
  // Its own process group, so that stop() ends code-server and everything it started.
  const child = spawn(setup.node, args, { env: codeServerEnv(setup, profile), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}/`;
  // Should this process end without stop() (a crash, a test runner's timeout), code-server goes too.
  const onExit = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
  };
  process.once('exit', onExit);
  child.once('exit', () => process.removeListener('exit', onExit));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      /* already gone */
    }
    const t = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, 5000);
    await gone;
    clearTimeout(t);
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`code-server exited (${child.exitCode}):\n${out}`);
    try {
      const r = await fetch(`${url}healthz`);
      if (r.ok) return { url, port, process: child, log: () => out, stop };
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  throw new Error(`code-server did not answer on ${url} within the time limit:\n${out}`);
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** playwright-core, loaded only when a browser is wanted (a devDependency; the setup check comes first). */
export function playwright(): typeof import('playwright-core') {
  return createRequire(join(ROOT, 'package.json'))('playwright-core');
}

/** A Chromium with a fresh profile, driven by playwright-core. */
export async function launchChromium(setup: EditorSetup, userDataDir: string) {
  const { chromium } = playwright();
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: setup.chromium,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1400, height: 860 },
    // Lets the workbench read and write the clipboard without a prompt.
    permissions: ['clipboard-read', 'clipboard-write'],
  });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    /* best effort */
  }
}
