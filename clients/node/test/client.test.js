'use strict';
// The Node client against a real DiffusionGrpc host, named by DIFFUSION_GRPC_ADDRESS (h2c) and
// DIFFUSION_WEB_URL (HTTP/1.1); DIFFUSION_SERVER_LOG (optional) is its log file. clients/ci-clients.sh sets them.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { pngSize } = require('../../test-support/png');
const { execFile } = require('node:child_process');
const { DiffusionClient, grpc } = require('../src/client');

const address = process.env.DIFFUSION_GRPC_ADDRESS;
const webUrl = (process.env.DIFFUSION_WEB_URL || '').replace(/\/$/, '');
const serverLog = process.env.DIFFUSION_SERVER_LOG;
if (!address || !webUrl) throw new Error('DIFFUSION_GRPC_ADDRESS and DIFFUSION_WEB_URL must name a running server (clients/ci-clients.sh starts one)');

let client;
let defaultModel;

async function collect(iterable) {
  const events = [];
  for await (const event of iterable) events.push(event);
  return events;
}

before(async () => {
  client = new DiffusionClient(address);
  const models = await client.listModels();
  defaultModel = models.models.find((m) => m.id === models.defaultModel);
  assert.ok(defaultModel, 'the default model is listed');
});

after(() => client.close());

test('generate streams a preview every step, then a PNG of the model default size', async () => {
  const events = await collect(client.generate('a red circle', { steps: 4, seed: 7 }));
  const steps = events.filter((e) => e.type === 'progress');
  assert.equal(events.at(-1).type, 'result');
  assert.deepEqual(steps.map((s) => s.step), steps.map((_, i) => i + 1));
  assert.ok(steps.length >= 4);
  for (const s of steps) {
    assert.equal(s.previews.length, 1);
    assert.equal(s.previews[0].mimeType, 'image/jpeg');
    assert.equal(s.previews[0].data[0], 0xff);
  }
  const [img] = events.at(-1).images;
  assert.equal(img.seed, '7');
  assert.deepEqual(pngSize(img.data), [defaultModel.defaultWidth, defaultModel.defaultHeight]);
  assert.equal(events.at(-1).resolved.model, defaultModel.id);
});

test('the same seed gives the same image', async () => {
  const run = async () => (await collect(client.generate('a blue square', { steps: 3, seed: 123, preview: 'none' }))).at(-1).images[0].data;
  assert.ok((await run()).equals(await run()));
});

test('requested size, scheduler and guidance are honoured', async () => {
  const events = await collect(client.generate('a green triangle', { steps: 2, width: 48, height: 32, seed: '18446744073709551615', scheduler: 'euler', guidanceScale: 3, preview: 'none' }));
  const result = events.at(-1);
  assert.deepEqual(pngSize(result.images[0].data), [48, 32]);
  assert.equal(result.images[0].seed, '18446744073709551615');
  assert.equal(result.resolved.scheduler.kind, 'EULER');
  assert.equal(result.resolved.guidanceScale.value, 3);
});

test('a bad request is INVALID_ARGUMENT naming the field', async () => {
  await assert.rejects(collect(client.generate('x', { width: 12 })), (err) => {
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.match(err.details, /width/);
    return true;
  });
});

test('aborting cancels the generation on the server', async () => {
  const logged = () => (serverLog ? fs.readFileSync(serverLog, 'utf8').split('Generation/Generate stopped: cancelled by the client').length - 1 : 0);
  const before = logged();
  const controller = new AbortController();
  let seen = 0;
  await assert.rejects(async () => {
    for await (const event of client.generate('a long run', { steps: 1000, seed: 1, preview: 'vae', previewFormat: 'png', signal: controller.signal })) {
      if (event.type === 'progress' && ++seen === 3) controller.abort();
    }
  }, (err) => err.code === grpc.status.CANCELLED);
  if (serverLog) {
    const deadline = Date.now() + 10000;
    while (logged() <= before) {
      assert.ok(Date.now() < deadline, 'the server did not log the cancellation');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const events = await collect(client.generate('a short run', { steps: 2, seed: 1, preview: 'none' }));
  assert.equal(events.at(-1).type, 'result');
  if (serverLog) assert.ok(!events.some((e) => e.type === 'queued'), 'the denoiser was freed');
});

test('the JSON API streams newline-delimited updates', async () => {
  const response = await fetch(`${webUrl}/v1/generate`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ prompt: 'a red circle', steps: 3, seed: '5' }),
  });
  assert.equal(response.status, 200);
  const lines = (await response.text()).split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  assert.deepEqual(lines.filter((l) => l.step).map((l) => l.step.step), [1, 2, 3]);
  const [img] = lines.at(-1).result.images;
  assert.equal(img.seed, '5'); // 64-bit integers as JSON strings
  assert.deepEqual(pngSize(Buffer.from(img.data, 'base64')), [defaultModel.defaultWidth, defaultModel.defaultHeight]);
  const bad = await fetch(`${webUrl}/v1/generate`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"prompt":"x","steps":100000}' });
  assert.equal(bad.status, 400);
  const error = await bad.json();
  assert.equal(error.code, 3);
  assert.equal(error.details[0].fieldViolations[0].field, 'steps');
});

test('the example saves previews and the PNG', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diffusion-node-'));
  const out = path.join(dir, 'out.png');
  const stdout = await new Promise((resolve, reject) => {
    execFile(process.execPath, [path.join(__dirname, '..', 'examples', 'generate.js'), 'a red circle', '-o', out,
      '--previews', path.join(dir, 'previews'), '--address', address, '--steps', '3', '--seed', '2'],
    { timeout: 120000 }, (err, so, se) => (err ? reject(new Error(`${err.message}\n${se}`)) : resolve(so)));
  });
  console.log(stdout.trim());
  assert.match(stdout, /first preview after \d+ ms/);
  pngSize(fs.readFileSync(out));
  assert.deepEqual(fs.readdirSync(path.join(dir, 'previews')).sort().slice(0, 3), ['step-0001-0.jpg', 'step-0002-0.jpg', 'step-0003-0.jpg']);
  fs.rmSync(dir, { recursive: true, force: true });
});
