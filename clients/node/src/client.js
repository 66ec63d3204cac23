'use strict';
// A small Node client of DiffusionGrpc's Generation service: @grpc/grpc-js with the repository's protos
// loaded at run time by @grpc/proto-loader (no generated code). Field names are lowerCamelCase, enums are
// names, 64-bit integers are strings.
//
//   const { DiffusionClient } = require('diffusion-grpc-client');
//   const client = new DiffusionClient('127.0.0.1:5000');
//   for await (const event of client.generate('a red circle', { steps: 20, seed: 1 })) {
//     if (event.type === 'progress') console.log(event.step, event.totalSteps);
//     if (event.type === 'result') fs.writeFileSync('out.png', event.images[0].data);
//   }
//
// Leaving the loop early (break, throw) or aborting `signal` cancels the call on the server.

const fs = require('node:fs');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** The protos/ folder: $DIFFUSION_PROTOS, else the repository's. */
function protosRoot() {
  return process.env.DIFFUSION_PROTOS || path.resolve(__dirname, '..', '..', '..', 'protos');
}

let cached = null;

/** The diffusion.v1 package loaded from protos/diffusion/v1/*.proto (the host's http/ mapping is not needed). */
function loadPackage() {
  if (cached) return cached;
  const root = protosRoot();
  const files = fs.readdirSync(path.join(root, 'diffusion', 'v1'))
    .filter((name) => name.endsWith('.proto'))
    .sort()
    .map((name) => `diffusion/v1/${name}`);
  const definition = protoLoader.loadSync(files, {
    includeDirs: [root], keepCase: false, longs: String, enums: String, defaults: true, oneofs: true,
  });
  cached = grpc.loadPackageDefinition(definition).diffusion.v1;
  return cached;
}

const PREVIEW_KINDS = { none: 'NONE', latent_rgb: 'LATENT_RGB', vae: 'VAE' };
const FORMATS = { png: 'PNG', jpeg: 'JPEG', webp: 'WEBP' };

/**
 * A GenerateRequest; 0 / undefined mean the model's defaults (a random seed for `seed`).
 * @param {string} prompt
 * @param {object} [o] model, negativePrompt, width, height, steps, guidanceScale, scheduler (a SchedulerKind
 *   name), seed (number, bigint or decimal string), numImages, preview (none | latent_rgb | vae), previewEvery,
 *   previewFormat and outputFormat (png | jpeg | webp).
 */
function buildRequest(prompt, o = {}) {
  const request = {
    model: o.model || '',
    prompt,
    negativePrompt: o.negativePrompt || '',
    width: o.width || 0,
    height: o.height || 0,
    steps: o.steps || 0,
    numImages: o.numImages || 1,
    preview: {
      kind: PREVIEW_KINDS[(o.preview || 'latent_rgb').toLowerCase()],
      everyNSteps: o.previewEvery || 1,
      format: FORMATS[(o.previewFormat || 'jpeg').toLowerCase()],
    },
    outputFormat: FORMATS[(o.outputFormat || 'png').toLowerCase()],
  };
  if (o.guidanceScale !== undefined && o.guidanceScale !== null) request.guidanceScale = { value: o.guidanceScale };
  if (o.seed !== undefined && o.seed !== null) request.seed = { value: String(o.seed) };
  if (o.scheduler) request.scheduler = { kind: o.scheduler.toUpperCase() };
  return request;
}

function image(message) {
  return { data: message.data, mimeType: message.mimeType, width: message.width, height: message.height, seed: message.seed };
}

class DiffusionClient {
  /**
   * @param {string} address host:port of the gRPC listener (h2c unless credentials say otherwise)
   * @param {{credentials?: grpc.ChannelCredentials}} [options]
   */
  constructor(address, options = {}) {
    const { Generation } = loadPackage();
    this.stub = new Generation(address, options.credentials || grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    });
  }

  /** ListModelsResponse: `models` (id, defaultWidth, defaultSteps...) and `defaultModel`. */
  listModels({ deadlineMs = 30000 } = {}) {
    return new Promise((resolve, reject) => {
      this.stub.ListModels({}, { deadline: Date.now() + deadlineMs }, (err, response) => (err ? reject(err) : resolve(response)));
    });
  }

  /**
   * Streams {type:'queued', position}, {type:'progress', step, totalSteps, timestep, elapsedSeconds, previews},
   * then one {type:'result', images, resolved, elapsedSeconds}. Images carry `data` as a Buffer.
   * @param {string|object} promptOrRequest a prompt (with `options` for buildRequest) or a ready GenerateRequest
   * @param {object} [options] buildRequest options, plus `signal` (AbortSignal) and `deadlineMs`
   */
  async *generate(promptOrRequest, options = {}) {
    const request = typeof promptOrRequest === 'string' ? buildRequest(promptOrRequest, options) : promptOrRequest;
    const callOptions = options.deadlineMs ? { deadline: Date.now() + options.deadlineMs } : {};
    const call = this.stub.Generate(request, callOptions);
    const abort = () => call.cancel();
    options.signal?.addEventListener('abort', abort, { once: true });
    let finished = false;
    try {
      for await (const update of call) {
        if (update.queued) {
          yield { type: 'queued', position: update.queued.position };
        } else if (update.step) {
          const s = update.step;
          yield {
            type: 'progress', step: s.step, totalSteps: s.totalSteps, timestep: s.timestep,
            elapsedSeconds: s.elapsedSeconds, previews: (s.previews || []).map(image),
          };
        } else if (update.result) {
          const r = update.result;
          yield { type: 'result', images: r.images.map(image), resolved: r.resolved, elapsedSeconds: r.elapsedSeconds };
        }
      }
      finished = true;
    } finally {
      options.signal?.removeEventListener('abort', abort);
      if (!finished) {
        call.on('error', () => {}); // the CANCELLED status that follows is expected
        call.cancel();
      }
    }
  }

  /** Closes the channel. */
  close() {
    this.stub.close();
  }
}

module.exports = { DiffusionClient, buildRequest, loadPackage, grpc };
