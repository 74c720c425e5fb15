// The real-editor suite: the packaged extension in the real VS Code of code-server, driven from
// Debian's Chromium with playwright-core, the way a person would use it: open the outage example,
// see the squiggle, hover the rule, apply the quick fix, save, and read the file back from disk; then
// "Firewall Lens: Check a packet…". Screenshots of every step go to .test-artifacts/editor/.
//
// Needs scripts/editor-setup.sh to have run (CI runs it before the tests). Without it the suite skips
// itself with a message, unless FWLENS_EDITOR_TESTS=1, which makes a missing setup a failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import {
  EXTENSION_ID, ROOT, freshProfile, installExtension, launchChromium, packageExtension, readSetup, removeDir, startCodeServer, tempDir,
} from './harness';

const ARTIFACTS = join(ROOT, '.test-artifacts', 'editor');
const setup = readSetup();
const required = process.env.FWLENS_EDITOR_TESTS === '1';
const skip = !setup && !required
  ? 'code-server and Chromium are not set up here: run `bash scripts/editor-setup.sh` first (FWLENS_EDITOR_TESTS=1 makes this a failure)'
  : false;

/** The rule of the outage: it drops every packet, and the allow rules after it never match. */
const OUTAGE_RULE = /block scanner range .*-j DROP/;

test('Firewall Lens in a real VS Code (code-server + Chromium)', { skip, timeout: 420_000 }, async (t) => {
  if (!setup) throw new Error('FWLENS_EDITOR_TESTS=1 but the editor setup is missing: run `bash scripts/editor-setup.sh`');
  rmSync(ARTIFACTS, { recursive: true, force: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  const base = tempDir('fwlens-editor-');
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  let failed = false;
  let page: Page | undefined;
  let shot = 0;
  const screenshot = async (name: string) => {
    if (!page) return;
    const file = join(ARTIFACTS, `${String(++shot).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file });
    t.diagnostic(`screenshot ${file} (${elapsed()})`);
  };
  /** A step that runs only while every earlier step passed (they build on each other). */
  const step = async (name: string, fn: () => Promise<void>) => {
    await t.test(name, { skip: failed ? 'an earlier step failed' : false }, async () => {
      try {
        await fn();
      } catch (e) {
        failed = true;
        await screenshot(`failed-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40)}`).catch(() => undefined);
        throw e;
      }
    });
  };

  const workspace = join(base, 'workspace');
  const profile = freshProfile(join(base, 'profile'));
  // The examples are named *.rules, which the extension does not claim (udev's rules are *.rules too):
  // the workspace says what they are, as a user with such names would (examples/.vscode does the
  // same for the demo). rules.v4, *.nft and the iptables-save header are recognised by the extension.
  cpSync(join(ROOT, 'examples'), workspace, { recursive: true });
  mkdirSync(join(workspace, '.vscode'), { recursive: true });
  writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'files.associations': { '*.rules': 'iptables' } }, null, 2));
  const outage = join(workspace, 'outage.rules');
  const original = readFileSync(outage, 'utf8');

  let server: Awaited<ReturnType<typeof startCodeServer>> | undefined;
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  try {
    let vsix = '';
    await step('npm run package makes a .vsix under 2 MB', async () => {
      const p = packageExtension(join(base, 'firewall-lens.vsix'));
      vsix = p.vsix;
      t.diagnostic(`vsix: ${p.bytes} bytes (${elapsed()})`);
      assert.ok(p.bytes < 2 * 1024 * 1024, `the .vsix is ${p.bytes} bytes`);
    });

    await step('code-server --install-extension installs it', async () => {
      const out = installExtension(setup, profile, vsix);
      assert.match(out, new RegExp(`${EXTENSION_ID.replace('.', '\\.')}@\\d+\\.\\d+\\.\\d+`), out);
      t.diagnostic(`installed (${elapsed()})`);
    });

    await step('code-server opens the examples', async () => {
      server = await startCodeServer(setup, profile, workspace);
      browser = await launchChromium(setup, join(base, 'chromium'));
      page = browser.pages()[0] ?? (await browser.newPage());
      await page.goto(`${server.url}?folder=${encodeURIComponent(workspace)}`);
      await page.locator('.monaco-workbench .part.editor').waitFor({ timeout: 90_000 });
      await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'outage.rules' }).waitFor({ timeout: 60_000 });
      t.diagnostic(`workbench up (${elapsed()})`);
      await screenshot('workbench');
    });

    await step('outage.rules opens as iptables with a squiggle on the catch-all DROP', async () => {
      const p = page!;
      await quickOpen(p, 'outage.rules');
      await p.locator('.monaco-editor .view-lines', { hasText: 'block scanner range' }).waitFor({ timeout: 30_000 });
      // The language mode in the status bar: the file association and the grammar are ours.
      await p.locator('#status\\.editor\\.mode', { hasText: 'iptables' }).waitFor({ timeout: 30_000 });
      await p.locator('.monaco-editor .squiggly-error').first().waitFor({ timeout: 60_000 });
      // The error sits on the line of the outage rule.
      const lineTop = await lineBox(p, 'block scanner range');
      const squiggles = await p.locator('.monaco-editor .squiggly-error').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().top));
      assert.ok(squiggles.some((top) => Math.abs(top - lineTop.y) < 4), `no error squiggle on the outage rule's line (squiggles at ${squiggles}, line at ${lineTop.y})`);
      // The folder is not trusted (Restricted Mode) and the extension runs anyway, as it declares.
      await p.locator('#status\\.workspaceTrust', { hasText: 'Restricted Mode' }).waitFor({ timeout: 10_000 });
      // The extension's own status bar item, with the server's timing.
      const item = p.locator('[id="firewall-lens.firewall-lens.firewallLens.status"]');
      await item.waitFor({ timeout: 30_000 });
      t.diagnostic(`status item: ${await item.getAttribute('aria-label')}`);
      const problems = await p.locator('#status\\.problems').getAttribute('aria-label');
      t.diagnostic(`squiggle shown, problems: ${problems} (${elapsed()})`);
      assert.match(problems ?? '', /Errors?:\s*[1-9]|[1-9]\d*\s+Errors?/i, 'the Problems count in the status bar');
      await screenshot('squiggle');
    });

    await step('hovering the DROP rule says what it drops', async () => {
      const p = page!;
      const box = await lineBox(p, 'block scanner range');
      // The `-j DROP` at the end of the rule, else the middle of the line.
      const target = p.locator('.monaco-editor .view-line', { hasText: 'block scanner range' }).locator('span span', { hasText: /^DROP$/ }).last();
      const tb = (await target.count()) ? await target.boundingBox() : null;
      const x = tb ? tb.x + tb.width / 2 : box.x + Math.min(200, box.width / 2);
      const y = tb ? tb.y + tb.height / 2 : box.y + box.height / 2;
      const hover = p.locator('.monaco-hover:not(.hidden) .monaco-hover-content').first();
      let shown = false;
      for (let attempt = 0; attempt < 3 && !shown; attempt++) {
        await p.mouse.move(x, y - 30);
        await p.mouse.move(x + attempt * 3, y, { steps: 4 });
        shown = await hover.waitFor({ state: 'visible', timeout: 10_000 }).then(() => true, () => false);
      }
      assert.ok(shown, 'no hover appeared over the DROP rule');
      await p.waitForTimeout(500);
      const text = await hover.innerText();
      t.diagnostic(`hover: ${text.replace(/\s+/g, ' ').slice(0, 400)}`);
      assert.match(text, /catch-all/i, 'the hover names the catch-all');
      assert.match(text, /drop/i, 'the hover says it drops');
      await screenshot('hover');
      await p.mouse.move(5, 5);
      await p.keyboard.press('Escape');
    });

    await step('the quick fix moves the DROP, and the saved file has it moved', async () => {
      const p = page!;
      const box = await lineBox(p, 'block scanner range');
      await p.mouse.click(box.x + 40, box.y + box.height / 2);
      await p.mouse.move(5, 5);
      // Ctrl+. (again after a pause if the first press came while the editor was busy), then the light bulb.
      const menu = p.locator('.action-widget .monaco-list').first();
      let open = false;
      for (let attempt = 0; attempt < 4 && !open; attempt++) {
        if (attempt < 3) await p.keyboard.press('Control+.');
        else await p.locator('.monaco-editor .lightBulbWidget').first().click({ timeout: 5_000 }).catch(() => undefined);
        open = await menu.waitFor({ state: 'visible', timeout: 7_000 }).then(() => true, () => false);
      }
      assert.ok(open, 'the quick fix menu did not open (Ctrl+. and the light bulb)');
      await p.waitForTimeout(300);
      const items = await p.locator('.action-widget .monaco-list-row.action').allInnerTexts();
      t.diagnostic(`quick fixes: ${JSON.stringify(items)}`);
      await screenshot('quick-fix-menu');
      const preferred = items.find((s) => /move .*after/i.test(s))
        ?? items.find((s) => /(default policy|established|narrow|catch-all)/i.test(s));
      assert.ok(preferred, `no catch-all fix among the quick fixes: ${JSON.stringify(items)}`);
      await p.locator('.action-widget .monaco-list-row.action', { hasText: preferred }).first().click();
      await p.waitForTimeout(500);
      await p.keyboard.press('Control+S');
      const deadline = Date.now() + 20_000;
      let now = original;
      while (Date.now() < deadline && now === original) {
        await p.waitForTimeout(250);
        now = readFileSync(outage, 'utf8');
      }
      assert.notEqual(now, original, 'the file on disk did not change after the fix and Ctrl+S');
      const lines = now.split('\n');
      const at = lines.findIndex((l) => OUTAGE_RULE.test(l));
      const lastAllow = Math.max(...lines.map((l, i) => (/-j ACCEPT\b/.test(l) ? i : -1)));
      t.diagnostic(`fix "${preferred}": outage rule now at line ${at + 1}, last allow rule at line ${lastAllow + 1}`);
      assert.ok(at === -1 || at > lastAllow || lines[at] !== original.split('\n').find((l) => OUTAGE_RULE.test(l)),
        `the DROP neither moved after the allow rules nor changed:\n${now}`);
      // …and the error is gone from the editor.
      await p.locator('.monaco-editor .squiggly-error').first().waitFor({ state: 'detached', timeout: 30_000 });
      await screenshot('fixed-and-saved');
      t.diagnostic(`fixed (${elapsed()})`);
    });

    await step('Check a packet… answers with a verdict and reveals the deciding rule', async () => {
      const p = page!;
      await runCommand(p, 'Firewall Lens: Check a packet');
      const input = p.locator('.quick-input-widget input').first();
      for (const [title, value] of [['source address', '203.0.113.10'], ['destination address', '192.0.2.1'], ['protocol', 'tcp'], ['destination port', '22'], ['chain', '']] as const) {
        await p.locator('.quick-input-widget .quick-input-title', { hasText: title }).waitFor({ timeout: 15_000 });
        if (value) await input.fill(value);
        await p.waitForTimeout(150);
        await p.keyboard.press('Enter');
      }
      const title = p.locator('.quick-input-widget .quick-input-title', { hasText: /ACCEPT|DROP|REJECT/ });
      await title.waitFor({ timeout: 30_000 });
      const verdict = await title.innerText();
      t.diagnostic(`check a packet: ${verdict}`);
      assert.match(verdict, /^ACCEPT/, 'ssh from 203.0.113.10 is accepted once the DROP is out of the way');
      assert.match(verdict, /line 1[01]\b/, 'decided by the ssh rule');
      await screenshot('check-a-packet');
      await p.keyboard.press('Escape');
    });
    await step('router.nft opens as nftables, highlighted by the grammar', async () => {
      const p = page!;
      await quickOpen(p, 'router.nft');
      await p.locator('.monaco-editor .view-lines', { hasText: 'type filter hook input' }).waitFor({ timeout: 30_000 });
      await p.locator('#status\\.editor\\.mode', { hasText: 'nftables' }).waitFor({ timeout: 30_000 });
      // The grammar gives `accept` a colour of its own (a token class other than the plain text's).
      const line = p.locator('.monaco-editor .view-line', { hasText: 'ct state established,related accept' }).first();
      const classes = await line.locator('span span').evaluateAll((els) => els.map((e) => [e.textContent, e.className]));
      const plain = classes.find(([text]) => text?.trim() === 'ct')?.[1];
      const verdict = classes.find(([text]) => text?.trim() === 'accept')?.[1];
      t.diagnostic(`router.nft tokens: ${JSON.stringify(classes)}`);
      assert.ok(verdict && plain && verdict !== plain, 'accept and ct are coloured alike: is the nftables grammar loaded?');
      await screenshot('nftables');
    });

    await step('settings apply live: firewallLens.disabledCodes, edited in settings.json, silences the findings', async () => {
      const p = page!;
      // The user's settings.json changes on disk (as when edited in another window or synced):
      // VS Code picks it up and the client passes the change to the server. (Typing it through the
      // settings editor needs the clipboard, which headless Chromium does not always grant.)
      const settingsFile = join(profile.userDataDir, 'User', 'settings.json');
      const settings = JSON.parse(readFileSync(settingsFile, 'utf8')) as Record<string, unknown>;
      const all = ['syntax', 'catch-all-drop', 'lockout', 'shadowed-rule', 'redundant-rule', 'open-to-world', 'cidr-host-bits', 'undefined-reference', 'invalid-value', 'stateless-return-traffic', 'unsupported'];
      writeFileSync(settingsFile, JSON.stringify({ ...settings, 'firewallLens.disabledCodes': all }, null, 2));
      const deadline = Date.now() + 30_000;
      let label = '';
      while (Date.now() < deadline) {
        label = (await p.locator('#status\\.problems').getAttribute('aria-label')) ?? '';
        if (/^No Problems$/i.test(label.trim())) break;
        await p.waitForTimeout(250);
      }
      t.diagnostic(`problems with every code disabled: ${label}`);
      assert.match(label, /^No Problems$/i, 'the findings are still reported after disabling every code');
      await screenshot('settings-disabled-codes');
    });
  } finally {
    if (server) writeFileSync(join(ARTIFACTS, 'code-server.log'), server.log());
    await browser?.close().catch(() => undefined);
    await server?.stop();
    removeDir(base);
    t.diagnostic(`editor suite took ${elapsed()}`);
  }
});

/** Runs a command from the command palette (F1) by its title. */
async function runCommand(p: Page, title: string): Promise<void> {
  await p.keyboard.press('F1');
  const input = p.locator('.quick-input-widget input').first();
  await input.waitFor({ state: 'visible', timeout: 15_000 });
  await input.fill(`>${title}`);
  await p.locator('.quick-input-list .monaco-list-row', { hasText: title.replace(/^.*: /, '') }).first().waitFor({ timeout: 15_000 });
  await p.keyboard.press('Enter');
}

async function quickOpen(p: Page, name: string): Promise<void> {
  await p.keyboard.press('Control+P');
  const input = p.locator('.quick-input-widget input').first();
  await input.waitFor({ state: 'visible', timeout: 15_000 });
  await input.fill(name);
  await p.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor({ timeout: 15_000 });
  await p.keyboard.press('Enter');
}

/** The on-screen box of the editor line that contains `text`. */
async function lineBox(p: Page, text: string): Promise<{ x: number; y: number; width: number; height: number }> {
  const line = p.locator('.monaco-editor .view-line', { hasText: text }).first();
  await line.waitFor({ timeout: 15_000 });
  const b = await line.boundingBox();
  if (!b) throw new Error(`the line with '${text}' is not on screen`);
  return b;
}
