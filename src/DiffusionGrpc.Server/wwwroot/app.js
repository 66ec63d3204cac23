// The DiffusionGrpc page: plain JavaScript over the JSON API of the host.
//   GET  /v1/models    the models and their defaults
//   POST /v1/generate  newline-delimited JSON GenerateUpdates (queued, step + preview, result)
// Cancel aborts the fetch: the server sees the connection close and stops the generation.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const form = $('form');
  const el = {
    prompt: $('prompt'), negative: $('negative'), model: $('model'), scheduler: $('scheduler'),
    steps: $('steps'), guidance: $('guidance'), width: $('width'), height: $('height'), seed: $('seed'),
    previewKind: $('preview-kind'), generate: $('generate'), cancel: $('cancel'), error: $('error'),
    status: $('status'), progress: $('progress'), counter: $('step-counter'), preview: $('preview'),
    previewCaption: $('preview-caption'), result: $('result'), download: $('download'), params: $('params'),
    progressSection: $('progress-section'),
  };
  let models = [];
  let controller = null;
  let downloadUrl = null;

  function setStatus(text) { el.status.textContent = text; }
  function setError(text) { el.error.textContent = text || ''; }

  function modelInfo(id) {
    return models.find((m) => m.id === id) || null;
  }

  // Fills steps, guidance and size with the chosen model's defaults.
  function applyModelDefaults() {
    const info = modelInfo(el.model.value);
    if (!info) return;
    el.steps.value = info.defaultSteps || '';
    el.guidance.value = info.defaultGuidanceScale ?? '';
    el.width.value = info.defaultWidth || '';
    el.height.value = info.defaultHeight || '';
  }

  async function loadModels() {
    try {
      const response = await fetch('/v1/models', { headers: { Accept: 'application/json' } });
      const body = await response.json();
      if (!response.ok) throw new Error(body.message || response.statusText);
      models = body.models || [];
      el.model.replaceChildren(...models.map((m) => {
        const option = document.createElement('option');
        option.value = m.id;
        option.textContent = m.id === body.defaultModel ? `${m.id} (default)` : m.id;
        return option;
      }));
      el.model.value = body.defaultModel || (models[0] && models[0].id) || '';
      applyModelDefaults();
      document.body.dataset.ready = 'true';
    } catch (err) {
      setError(`Could not list the models: ${err.message}`);
    }
  }

  function intOrZero(input) {
    const value = parseInt(input.value, 10);
    return Number.isFinite(value) ? value : 0;
  }

  function buildRequest() {
    const request = {
      model: el.model.value,
      prompt: el.prompt.value,
      negativePrompt: el.negative.value,
      width: intOrZero(el.width),
      height: intOrZero(el.height),
      steps: intOrZero(el.steps),
      preview: { kind: el.previewKind.value, format: 'JPEG' },
      outputFormat: 'PNG',
    };
    if (el.scheduler.value) request.scheduler = { kind: el.scheduler.value };
    const guidance = parseFloat(el.guidance.value);
    if (Number.isFinite(guidance)) request.guidanceScale = guidance;
    const seed = el.seed.value.trim();
    if (seed !== '') {
      if (!/^\d+$/.test(seed)) throw new Error('seed: a whole number from 0 to 18446744073709551615, or empty for random.');
      request.seed = seed; // uint64 travels as a JSON string
    }
    return request;
  }

  function base64ToBytes(base64) {
    const binary = atob(base64);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }

  function showParams(result) {
    const r = result.resolved || {};
    const image = (result.images || [])[0] || {};
    const rows = [
      ['Model', r.model],
      ['Prompt', r.prompt],
      ['Negative prompt', r.negativePrompt || '(none)'],
      ['Size', `${image.width} × ${image.height} px`],
      ['Steps', r.steps],
      ['Scheduler', [r.scheduler && r.scheduler.kind, r.scheduler && r.scheduler.timestepSpacing].filter(Boolean).join(', ')],
      ['Guidance scale', r.guidanceScale],
      ['Seed', image.seed ?? r.seed],
      ['Time', `${(result.elapsedSeconds || 0).toFixed(2)} s`],
    ];
    el.params.replaceChildren(...rows.flatMap(([name, value]) => {
      const dt = document.createElement('dt');
      dt.textContent = name;
      const dd = document.createElement('dd');
      dd.textContent = value === undefined || value === null || value === '' ? '—' : String(value);
      return [dt, dd];
    }));
  }

  function handleUpdate(update, run) {
    if (update.queued) {
      setStatus(`Queued: position ${update.queued.position}.`);
    } else if (update.step) {
      const step = update.step;
      if (!run.started) {
        run.started = true;
        setStatus('Generating…');
      }
      el.progress.max = step.totalSteps;
      el.progress.value = step.step;
      el.counter.textContent = `Step ${step.step} of ${step.totalSteps}`;
      const preview = (step.previews || [])[0];
      if (preview && preview.data) {
        el.preview.src = `data:${preview.mimeType || 'image/jpeg'};base64,${preview.data}`;
        el.preview.hidden = false;
        run.previews++;
        if (run.firstPreviewMs === null) {
          run.firstPreviewMs = performance.now() - run.t0;
          el.progressSection.dataset.firstPreviewMs = run.firstPreviewMs.toFixed(0);
        }
        el.previewCaption.textContent = `Preview after step ${step.step} of ${step.totalSteps} (${preview.width} × ${preview.height} px).`;
      }
    } else if (update.result) {
      const result = update.result;
      const image = (result.images || [])[0];
      if (!image) throw new Error('The result has no image.');
      const bytes = base64ToBytes(image.data);
      if (downloadUrl) URL.revokeObjectURL(downloadUrl);
      downloadUrl = URL.createObjectURL(new Blob([bytes], { type: image.mimeType || 'image/png' }));
      el.result.src = `data:${image.mimeType || 'image/png'};base64,${image.data}`;
      el.result.alt = `Generated image for “${(result.resolved && result.resolved.prompt) || ''}”, seed ${image.seed}`;
      el.result.hidden = false;
      el.download.href = downloadUrl;
      el.download.download = `diffusion-${image.seed}.png`;
      el.download.hidden = false;
      showParams(result);
      run.done = true;
      const first = run.firstPreviewMs === null ? '' : `, first preview after ${run.firstPreviewMs.toFixed(0)} ms`;
      setStatus(`Done in ${(result.elapsedSeconds || 0).toFixed(2)} s${first}.`);
    } else if (update.code !== undefined && update.message !== undefined) {
      // An error after the stream started arrives as a status object on its own line.
      throw new Error(update.message);
    }
  }

  async function generate() {
    setError('');
    let request;
    try {
      request = buildRequest();
    } catch (err) {
      setError(err.message);
      return;
    }
    const run = { t0: performance.now(), firstPreviewMs: null, previews: 0, started: false, done: false };
    controller = new AbortController();
    el.generate.disabled = true;
    el.cancel.disabled = false;
    el.progress.value = 0;
    el.counter.textContent = 'Step 0 of ' + (request.steps || '?');
    delete el.progressSection.dataset.firstPreviewMs;
    setStatus('Sending the request…');
    try {
      const response = await fetch('/v1/generate', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(request),
        signal: controller.signal,
      });
      if (!response.ok) {
        const body = await response.json().catch(() => null);
        throw new Error((body && body.message) || `${response.status} ${response.statusText}`);
      }
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let newline;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline).trim();
          buffer = buffer.slice(newline + 1);
          if (line) handleUpdate(JSON.parse(line), run);
        }
      }
      if (buffer.trim()) handleUpdate(JSON.parse(buffer), run);
      if (!run.done) throw new Error('The stream ended without a result.');
    } catch (err) {
      if (err.name === 'AbortError') {
        setStatus(`Cancelled${run.started ? ` at ${el.counter.textContent.toLowerCase()}` : ''}.`);
      } else {
        setStatus('Failed.');
        setError(err.message);
      }
    } finally {
      controller = null;
      el.generate.disabled = false;
      el.cancel.disabled = true;
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!controller) generate();
  });
  el.cancel.addEventListener('click', () => {
    if (controller) controller.abort();
  });
  el.model.addEventListener('change', applyModelDefaults);
  loadModels();
})();
