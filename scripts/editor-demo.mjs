// `npm run editor-demo`: one command that sets up (the first time), builds and packages the
// extension, installs it into code-server, and opens a scratch copy of examples/ in a real VS Code
// on http://127.0.0.1:PORT (printed). Ctrl+C stops it.
//
// Usage: node --import tsx scripts/editor-demo.mjs [--port N] [--smoke]
//   --port N   listen on this port (default: $FWLENS_DEMO_PORT, else 8765 when free, else any free port)
//   --smoke    instead of waiting for you: open the outage example in headless Chromium, wait for the
//              squiggle, save a screenshot to .test-artifacts/editor-demo.png, and stop
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import {
  ROOT, freePort, freshProfile, installExtension, launchChromium, packageExtension, readSetup, runSetup, startCodeServer,
} from '../test/editor/harness.ts';

const args = process.argv.slice(2);
const portArg = args.includes('--port') ? Number(args[args.indexOf('--port') + 1]) : Number(process.env.FWLENS_DEMO_PORT || 0);
const smoke = args.includes('--smoke');
const say = (m) => console.log(`editor-demo: ${m}`);

const portFree = (port) => new Promise((res) => {
  const s = createServer();
  s.once('error', () => res(false));
  s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
});

let setup = readSetup();
if (!setup) {
  say('first run: installing Chromium (Debian), Node 24 and code-server into the cache (about 2 minutes)…');
  setup = runSetup();
}

const dir = join(ROOT, '.cache', 'editor-demo');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });

say('building and packaging the extension…');
const { vsix, bytes } = packageExtension(join(dir, 'firewall-lens.vsix'));
say(`${vsix} (${(bytes / 1024).toFixed(0)} KiB)`);

const profile = freshProfile(join(dir, 'profile'), { 'security.workspace.trust.enabled': false, 'workbench.startupEditor': 'none' });
installExtension(setup, profile, vsix);

const workspace = join(dir, 'examples');
cpSync(join(ROOT, 'examples'), workspace, { recursive: true });
// The examples are named *.rules, a name the extension does not claim (udev uses it too).
mkdirSync(join(workspace, '.vscode'), { recursive: true });
writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'files.associations': { '*.rules': 'iptables' } }, null, 2) + '\n');

const port = portArg || ((await portFree(8765)) ? 8765 : await freePort());
const server = await startCodeServer(setup, profile, workspace, { port });
const url = `${server.url}?folder=${encodeURIComponent(workspace)}`;

const stop = async (code = 0) => {
  await server.stop();
  process.exit(code);
};
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

if (smoke) {
  const browser = await launchChromium(setup, join(dir, 'chromium'));
  try {
    const page = browser.pages()[0] ?? (await browser.newPage());
    await page.goto(url);
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'outage.rules' }).click({ timeout: 90_000 });
    await page.locator('.monaco-editor .squiggly-error').first().waitFor({ timeout: 60_000 });
    mkdirSync(join(ROOT, '.test-artifacts'), { recursive: true });
    await page.screenshot({ path: join(ROOT, '.test-artifacts', 'editor-demo.png') });
    say('smoke test passed: the outage rule is squiggled (.test-artifacts/editor-demo.png)');
  } catch (e) {
    console.error(`editor-demo: smoke test failed: ${e.message}\n${server.log().slice(-4000)}`);
    await browser.close();
    await stop(1);
  }
  await browser.close();
  await stop(0);
} else {
  console.log(`
  Firewall Lens is running in VS Code (code-server) at:

      ${url}

  Open it in your browser, then open outage.rules: the catch-all DROP on line 9 is squiggled;
  hover it for what it drops, and press Ctrl+. on it for the fixes. "Firewall Lens: Check a packet…"
  is in the command palette (F1). This is a scratch copy of examples/ in ${workspace}:
  edits there are thrown away on the next run.

  Ctrl+C stops it.
`);
}
