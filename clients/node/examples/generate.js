#!/usr/bin/env node
'use strict';
// Generates an image with DiffusionGrpc, saving every preview and the final PNG.
//   node clients/node/examples/generate.js "a red circle" -o out.png --previews previews \
//     --address 127.0.0.1:5000 --steps 20 --seed 1
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { DiffusionClient } = require('../src/client');

const EXTENSIONS = { 'image/png': '.png', 'image/jpeg': '.jpg', 'image/webp': '.webp' };

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o', default: 'out.png' },
      previews: { type: 'string' },
      address: { type: 'string', default: '127.0.0.1:5000' },
      model: { type: 'string', default: '' },
      'negative-prompt': { type: 'string', default: '' },
      steps: { type: 'string', default: '0' },
      width: { type: 'string', default: '0' },
      height: { type: 'string', default: '0' },
      guidance: { type: 'string' },
      scheduler: { type: 'string' },
      seed: { type: 'string' },
      preview: { type: 'string', default: 'latent_rgb' },
    },
  });
  if (positionals.length !== 1) {
    console.error('usage: generate.js PROMPT [-o out.png] [--previews DIR] [--address host:port] [--steps N] [--seed N] ...');
    return 2;
  }
  if (values.previews) fs.mkdirSync(values.previews, { recursive: true });
  const client = new DiffusionClient(values.address);
  const start = process.hrtime.bigint();
  const ms = () => Number(process.hrtime.bigint() - start) / 1e6;
  let firstPreview = null;
  let firstPreviewServer = null;
  try {
    for await (const event of client.generate(positionals[0], {
      model: values.model, negativePrompt: values['negative-prompt'], steps: Number(values.steps),
      width: Number(values.width), height: Number(values.height),
      guidanceScale: values.guidance === undefined ? undefined : Number(values.guidance),
      scheduler: values.scheduler, seed: values.seed, preview: values.preview,
    })) {
      if (event.type === 'queued') {
        process.stderr.write(`queued: position ${event.position}\n`);
      } else if (event.type === 'progress') {
        if (event.previews.length && firstPreview === null) {
          firstPreview = ms();
          firstPreviewServer = event.elapsedSeconds * 1000;
        }
        if (values.previews) {
          event.previews.forEach((p, i) => {
            const name = `step-${String(event.step).padStart(4, '0')}-${i}${EXTENSIONS[p.mimeType] || '.bin'}`;
            fs.writeFileSync(path.join(values.previews, name), p.data);
          });
        }
        process.stderr.write(`\rstep ${event.step}/${event.totalSteps}`);
      } else if (event.type === 'result') {
        process.stderr.write('\n');
        event.images.forEach((img, i) => {
          const out = i === 0 ? values.output : values.output.replace(/(\.\w+)?$/, `-${i}$1`);
          fs.writeFileSync(out, img.data);
          console.log(`saved ${out} (${img.width}x${img.height}, seed ${img.seed})`);
        });
        const first = firstPreview === null ? 'none' : `${firstPreview.toFixed(0)} ms (server side: ${firstPreviewServer.toFixed(0)} ms)`;
        console.log(`first preview after ${first}, done in ${(ms() / 1000).toFixed(2)} s (${event.resolved.steps} steps of ${event.resolved.model})`);
      }
    }
  } finally {
    client.close();
  }
  return 0;
}

main().then((code) => { process.exitCode = code; }, (err) => {
  console.error(`error: ${err.code !== undefined ? `${grpcName(err.code)}: ` : ''}${err.details || err.message}`);
  process.exitCode = 1;
});

function grpcName(code) {
  const { status } = require('@grpc/grpc-js');
  return Object.keys(status).find((k) => status[k] === code) || String(code);
}
