'use strict';
// The host's web page in a real browser: Debian's chromium driven by playwright-core. Needs a running
// host: DIFFUSION_WEB_URL (its HTTP/1.1 listener) and DIFFUSION_SERVER_LOG (its log file, to see that
// Cancel stops the run on the server). clients/ci-clients.sh starts one and sets both.
// Screenshots go to artifacts/ (gitignored).
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { pngSize } = require('../test-support/png');
const { chromium } = require('playwright-core');

const webUrl = (process.env.DIFFUSION_WEB_URL || '').replace(/\/$/, '');
const serverLog = process.env.DIFFUSION_SERVER_LOG;
if (!webUrl) throw new Error('DIFFUSION_WEB_URL must name a running server (clients/ci-clients.sh starts one)');
const artifacts = path.join(__dirname, 'artifacts');
const CANCELLED = 'GenerationHttp/Generate stopped: cancelled by the client';

let browser;
let page;

function cancellationsLogged() {
  return serverLog ? fs.readFileSync(serverLog, 'utf8').split(CANCELLED).length - 1 : 0;
}

before(async () => {
  fs.mkdirSync(artifacts, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
  });
  page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
  page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
  await page.goto(webUrl + '/');
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
});

after(async () => {
  await browser?.close();
});

test('the page lists the models and preselects the default one with its defaults', async () => {
  const models = await (await fetch(`${webUrl}/v1/models`)).json();
  assert.equal(await page.getByLabel('Model').inputValue(), models.defaultModel);
  const info = models.models.find((m) => m.id === models.defaultModel);
  assert.equal(Number(await page.getByLabel('Width (px)').inputValue()), info.defaultWidth);
  assert.equal(Number(await page.getByLabel('Height (px)').inputValue()), info.defaultHeight);
  for (const label of ['Prompt', 'Negative prompt', 'Seed', 'Steps', 'Scheduler', 'Guidance scale']) {
    assert.equal(await page.getByLabel(label, { exact: true }).count(), 1, `a labelled ${label} field`);
  }
  assert.equal(await page.locator('#status').getAttribute('aria-live'), 'polite');
});

test('generate: the preview changes at every step before the final PNG of the requested size', async () => {
  const width = Number(await page.getByLabel('Width (px)').inputValue());
  const height = Number(await page.getByLabel('Height (px)').inputValue());
  await page.getByLabel('Prompt', { exact: true }).fill('a red circle on a blue background');
  await page.getByLabel('Steps').fill('10');
  await page.getByLabel('Seed').fill('42');
  // Record every src the preview and result images take, in order (a record's oldValue is the src the
  // previous change of that element set; the last one is the current src).
  await page.evaluate(() => {
    const records = [];
    window.srcChanges = () => {
      const next = {};
      const values = [];
      for (let i = records.length - 1; i >= 0; i--) {
        const r = records[i];
        values[i] = { id: r.id, src: r.id in next ? next[r.id] : document.getElementById(r.id).getAttribute('src') };
        next[r.id] = r.oldValue;
      }
      return values;
    };
    const observer = new MutationObserver((list) => {
      for (const r of list) records.push({ id: r.target.id, oldValue: r.oldValue });
    });
    for (const id of ['preview', 'result']) {
      observer.observe(document.getElementById(id), { attributes: true, attributeFilter: ['src'], attributeOldValue: true });
    }
  });
  await page.getByRole('button', { name: 'Generate' }).click();
  await page.locator('#result').waitFor({ state: 'visible', timeout: 120000 });
  await page.locator('#status').filter({ hasText: 'Done' }).waitFor();

  const changes = await page.evaluate(() => window.srcChanges());
  const firstResult = changes.findIndex((c) => c.id === 'result');
  const previews = changes.slice(0, firstResult).filter((c) => c.id === 'preview').map((c) => c.src);
  assert.ok(firstResult > 0, 'the result appeared after previews');
  assert.ok(new Set(previews).size >= 3, `the preview changed ${new Set(previews).size} times before the final image`);
  assert.equal(await page.locator('#step-counter').textContent(), 'Step 10 of 10');
  assert.equal(await page.locator('#progress').evaluate((p) => p.value / p.max), 1);

  const src = await page.locator('#result').getAttribute('src');
  assert.match(src, /^data:image\/png;base64,/);
  const png = Buffer.from(src.split(',')[1], 'base64');
  assert.deepEqual(pngSize(png), [width, height]);
  // The download link serves the same bytes.
  const download = page.locator('#download');
  assert.equal(await download.getAttribute('download'), 'diffusion-42.png');
  const downloaded = await page.evaluate(async () => {
    const bytes = new Uint8Array(await (await fetch(document.getElementById('download').href)).arrayBuffer());
    return Array.from(bytes);
  });
  assert.ok(Buffer.from(downloaded).equals(png));
  assert.match(await page.locator('#params').textContent(), /Seed42/);

  const firstPreviewMs = Number(await page.locator('#progress-section').getAttribute('data-first-preview-ms'));
  console.log(`browser: first preview after ${firstPreviewMs} ms (click to preview shown), ${previews.length} preview updates, ${width}x${height}`);
  await page.screenshot({ path: path.join(artifacts, 'page.png'), fullPage: true });
});

test('cancel stops a long run on the server', async () => {
  const before = cancellationsLogged();
  await page.getByLabel('Steps').fill('1000');
  await page.getByLabel('Preview', { exact: true }).selectOption('VAE');
  await page.getByRole('button', { name: 'Generate' }).click();
  await page.waitForFunction(() => document.getElementById('progress').value >= 3, null, { timeout: 60000 });
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.locator('#status').filter({ hasText: 'Cancelled' }).waitFor({ timeout: 10000 });
  const stoppedAt = await page.locator('#progress').evaluate((p) => p.value);
  assert.ok(stoppedAt < 1000, `stopped at step ${stoppedAt}`);
  await page.screenshot({ path: path.join(artifacts, 'cancelled.png'), fullPage: true });
  if (serverLog) {
    const deadline = Date.now() + 10000;
    while (cancellationsLogged() <= before) {
      assert.ok(Date.now() < deadline, `the server log does not say "${CANCELLED}"`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  // The denoiser is free at once: a new request is not queued behind the 1000 steps.
  const response = await fetch(`${webUrl}/v1/generate`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ prompt: 'x', steps: 2, preview: { kind: 'NONE' } }),
  });
  const lines = (await response.text()).split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  assert.ok(lines.at(-1).result, 'the next request completes');
  if (serverLog) assert.ok(!lines.some((l) => l.queued), 'the next request was not queued');
  assert.equal(await page.locator('#progress').evaluate((p) => p.value), stoppedAt, 'no more steps arrive');
  assert.equal(await page.getByRole('button', { name: 'Generate' }).isEnabled(), true);
});
