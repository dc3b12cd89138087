// The ssam dashboard page: plain JavaScript, no dependencies. Every number it shows comes
// from the JSON API under /api/ (docs/dashboard.md); changes arrive on /api/stream.

const $ = (sel, root = document) => root.querySelector(sel);
const el = (tag, attrs = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
};
const api = async (path, opts = {}) => {
  const r = await fetch(path, opts);
  const text = await r.text();
  let body;
  try { body = text ? JSON.parse(text) : null; } catch { body = text; }
  if (!r.ok) throw new Error((body && body.error) || `${r.status} ${r.statusText}`);
  return body;
};
const fmtMs = (ms) => ms == null ? '' : ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`;
const fmtTime = (ms) => { const d = new Date(ms); return d.toLocaleTimeString([], { hour12: false }) + '.' + String(d.getMilliseconds()).padStart(3, '0'); };
const fmtSize = (n) => n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1048576).toFixed(1)} MB`;
const sourceText = (s) => {
  switch (s.kind) {
    case 'api': return `${s.method} ${s.path}`;
    case 's3': return `S3 ${s.event_name} ${s.key}`;
    case 'invoke_api': return 'Invoke API';
    case 'replay': return `replay of ${s.of.slice(0, 8)}`;
    case 'dashboard': return 'dashboard';
    default: return 'direct';
  }
};

// ------------------------------------------------------------------ views and routing
const views = ['invocations', 'functions', 'routes', 's3', 'async'];
let current = 'invocations';
function show(view) {
  if (!views.includes(view)) view = 'invocations';
  current = view;
  for (const v of views) $(`#view-${v}`).hidden = v !== view;
  for (const a of document.querySelectorAll('#tabs a')) a.classList.toggle('active', a.dataset.view === view);
  refresh[view]?.();
}
window.addEventListener('hashchange', () => route());
function route() {
  const [view, arg] = location.hash.slice(1).split('/');
  show(view || 'invocations');
  if (view === 'invocations' && arg) select(Number(arg));
}

// ------------------------------------------------------------------ invocations
const ROW = 28;
let all = [];            // summaries, oldest first
let shown = [];          // after filters, newest first
let selected = null;
let maxKept = 10000;
const list = $('#inv-list');
const spacer = $('.vspacer', list);

function matches(s) {
  const fn = $('#filter-function').value;
  const st = $('#filter-status').value;
  if (fn && s.function !== fn) return false;
  if (st === 'error' && s.status === 'success') return false;
  if (st && st !== 'error' && s.status !== st) return false;
  return true;
}
let textHits = null;     // ids matching the text filter (asked of the server), or null
async function applyText() {
  const q = $('#filter-text').value.trim();
  if (!q) { textHits = null; return renderList(); }
  const hits = await api(`/api/invocations?q=${encodeURIComponent(q)}`);
  textHits = new Set(hits.map((h) => h.id));
  renderList();
}
function renderList() {
  shown = all.filter((s) => matches(s) && (!textHits || textHits.has(s.id))).reverse();
  spacer.style.height = `${shown.length * ROW}px`;
  $('#inv-count').textContent = `${shown.length} of ${all.length}`;
  paint();
}
let freshIds = new Set();
function paint() {
  // Only the rows in view exist: 10,000 invocations stay as fast as 10.
  for (const r of list.querySelectorAll('.inv')) r.remove();
  const first = Math.max(0, Math.floor(list.scrollTop / ROW) - 5);
  const last = Math.min(shown.length, first + Math.ceil(list.clientHeight / ROW) + 10);
  for (let i = first; i < last; i++) {
    const s = shown[i];
    const row = el('div', {
      class: `inv${s.id === selected ? ' selected' : ''}${freshIds.has(s.id) ? ' new' : ''}`,
      'data-id': s.id, 'data-request-id': s.request_id, 'data-function': s.function, 'data-status': s.status,
      style: `top:${i * ROW}px`, onclick: () => { location.hash = `invocations/${s.id}`; },
    },
    el('span', { class: 'muted' }, fmtTime(s.started_ms)),
    el('span', {}, s.function),
    el('span', { class: 'muted', title: sourceText(s.source) }, sourceText(s.source)),
    el('span', {}, el('span', { class: `badge ${s.status}` }, s.status)),
    el('span', {}, fmtMs(s.duration_ms)),
    el('span', {}, s.cold ? el('span', { class: 'badge cold' }, 'cold') : 'warm'));
    list.append(row);
  }
}
list.addEventListener('scroll', () => requestAnimationFrame(paint));
window.addEventListener('resize', () => paint());
for (const id of ['#filter-function', '#filter-status']) $(id).addEventListener('change', renderList);
let textTimer;
$('#filter-text').addEventListener('input', () => { clearTimeout(textTimer); textTimer = setTimeout(applyText, 200); });

function addInvocation(s) {
  all.push(s);
  if (all.length > maxKept) all.splice(0, all.length - maxKept);
  freshIds.add(s.id);
  setTimeout(() => freshIds.delete(s.id), 1000);
  ensureFunctionOption(s.function);
  if (textHits) return; // a text search shows a fixed result
  if (matches(s)) {
    shown.unshift(s);
    spacer.style.height = `${shown.length * ROW}px`;
    // Keep the rows the reader looks at in place when scrolled down.
    if (list.scrollTop > 0) list.scrollTop += ROW;
    $('#inv-count').textContent = `${shown.length} of ${all.length}`;
    paint();
  }
}
function ensureFunctionOption(name) {
  const sel = $('#filter-function');
  if (![...sel.options].some((o) => o.value === name)) sel.append(el('option', { value: name }, name));
}
async function loadInvocations() {
  all = await api('/api/invocations');
  all.forEach((s) => ensureFunctionOption(s.function));
  renderList();
}

async function select(id) {
  selected = id;
  paint();
  const box = $('#inv-detail');
  let d;
  try { d = await api(`/api/invocations/${id}`); } catch (e) { box.replaceChildren(el('p', { class: 'empty' }, e.message)); return; }
  const src = d.source;
  const srcNode = src.kind === 's3'
    ? el('a', { href: '#s3', onclick: (ev) => { ev.preventDefault(); openObject(src.bucket, src.key); } }, `s3://${src.bucket}/${src.key} (${src.event_name})`)
    : src.kind === 'replay' ? el('span', {}, 'replay of ', el('a', { href: `#invocations/${src.of}` }, src.of))
    : sourceText(src);
  const editor = el('textarea', { id: 'replay-event', rows: 10, spellcheck: 'false', hidden: '' });
  editor.value = d.event;
  const parts = [
    el('h2', {}, `${d.function} `, el('span', { class: `badge ${d.status}`, id: 'detail-status' }, d.status), ' ', d.cold ? el('span', { class: 'badge cold' }, 'cold start') : el('span', { class: 'badge' }, 'warm')),
    el('dl', { class: 'meta' },
      el('dt', {}, 'request id'), el('dd', { id: 'detail-request-id' }, d.request_id),
      el('dt', {}, 'source'), el('dd', { id: 'detail-source' }, srcNode),
      el('dt', {}, 'type'), el('dd', {}, d.invocation_type + (d.attempt ? ` (retry ${d.attempt})` : '')),
      el('dt', {}, 'started'), el('dd', {}, new Date(d.started_ms).toLocaleString()),
      el('dt', {}, 'duration'), el('dd', {}, fmtMs(d.duration_ms) + (d.init_ms != null ? `, init ${fmtMs(d.init_ms)}` : ''))),
  ];
  if (d.error) {
    parts.push(el('div', { class: 'error-box', id: 'detail-error' },
      el('strong', {}, d.error.errorType || 'Error'), ': ', d.error.errorMessage,
      d.error.stackTrace?.length ? el('pre', {}, d.error.stackTrace.join('\n')) : null));
  }
  if (d.hint) parts.push(el('div', { class: 'hint-box', id: 'detail-hint' }, el('strong', {}, 'hint: '), d.hint));
  parts.push(
    el('h3', {}, 'Event', el('a', { href: d.event_url, download: '' }, `download (${fmtSize(d.event_size)})`),
      el('button', { id: 'replay', onclick: () => replay(d.id, null) }, 'Replay'),
      el('button', { id: 'edit-replay', onclick: () => { editor.hidden = !editor.hidden; $('#replay-edited').hidden = editor.hidden; } }, 'Edit and replay')),
    el('pre', { id: 'detail-event' }, d.event + (d.event_truncated ? '\n… (truncated: download the whole event)' : '')),
    editor,
    el('button', { id: 'replay-edited', class: 'primary', hidden: '', onclick: () => replay(d.id, editor.value) }, 'Replay with this event'),
    el('div', { id: 'replay-result' }),
    el('h3', {}, 'Response', el('a', { href: d.response_url, download: '' }, `download (${fmtSize(d.response_size)})`)),
    el('pre', { id: 'detail-response' }, d.response + (d.response_truncated ? '\n… (truncated: download the whole response)' : '')),
    el('h3', {}, 'Logs'),
    el('pre', { id: 'detail-log' }, d.log),
  );
  box.replaceChildren(...parts);
}
async function replay(id, event) {
  const out = $('#replay-result');
  out.textContent = 'running…';
  try {
    const r = await api(`/api/invocations/${id}/replay`, { method: 'POST', body: event ?? '' });
    out.replaceChildren('replayed: ', el('a', { href: '#', onclick: (e) => { e.preventDefault(); gotoRequest(r.request_id); } }, r.request_id), ` (${r.status})`);
  } catch (e) { out.textContent = e.message; }
}
function gotoRequest(requestId) {
  const s = all.find((x) => x.request_id === requestId);
  if (s) location.hash = `invocations/${s.id}`;
}

// ------------------------------------------------------------------ functions
let catalog = null;
let invokeTarget = null;
async function loadFunctions() {
  const fns = await api('/api/functions');
  const tb = $('#functions-table tbody');
  tb.replaceChildren(...fns.map((f) => el('tr', { 'data-function': f.name },
    el('td', {}, el('strong', {}, f.name), f.name !== f.logical_id ? el('div', { class: 'muted' }, f.logical_id) : null),
    el('td', {}, f.runtime), el('td', {}, f.sandbox), el('td', {}, f.warm), el('td', {}, f.busy), el('td', {}, f.cap),
    el('td', {}, el('a', { href: '#', onclick: (e) => { e.preventDefault(); filterBy(f.name, ''); } }, f.invocations)),
    el('td', {}, f.errors ? el('a', { href: '#', onclick: (e) => { e.preventDefault(); filterBy(f.name, 'error'); } }, f.errors) : 0),
    el('td', {}, f.throttles), el('td', {}, fmtMs(f.p50_ms)), el('td', {}, fmtMs(f.p99_ms)),
    el('td', {}, f.last_cold_start_ms ? `${fmtTime(f.last_cold_start_ms)} (init ${fmtMs(f.last_init_ms)})` : ''),
    el('td', {}, el('a', { href: `file://${f.code_dir}`, title: f.code_dir }, f.code_dir.split('/').slice(-2).join('/')),
      f.template_position ? el('div', { class: 'muted', title: f.template_position }, f.template_position.split('/').pop()) : null),
    el('td', {}, el('button', { class: 'invoke', onclick: () => openInvoke(f.name) }, 'Invoke')))));
}
function filterBy(fn, status) {
  $('#filter-function').value = fn; $('#filter-status').value = status;
  location.hash = 'invocations'; renderList();
}
async function openInvoke(name) {
  invokeTarget = name;
  $('#invoke-function').textContent = name;
  $('#invoke-panel').hidden = false;
  if (!catalog) {
    catalog = await api('/api/catalog');
    $('#catalog-service').replaceChildren(...catalog.map((s) => el('option', { value: s.name }, s.name)));
    $('#catalog-service').value = catalog.some((s) => s.name === 'apigateway') ? 'apigateway' : catalog[0].name;
    fillEvents();
  }
}
function fillEvents() {
  const svc = catalog.find((s) => s.name === $('#catalog-service').value);
  $('#catalog-event').replaceChildren(...svc.events.map((e) => el('option', { value: e.name }, e.name)));
  fillFlags();
}
function fillFlags() {
  const svc = catalog.find((s) => s.name === $('#catalog-service').value);
  const ev = svc.events.find((e) => e.name === $('#catalog-event').value);
  $('#catalog-flags').replaceChildren(...ev.flags.flatMap((f) => [
    el('label', { for: `flag-${f.name}`, title: f.help }, f.name),
    el('input', { id: `flag-${f.name}`, 'data-flag': f.name, value: f.default, title: f.help }),
  ]));
}
$('#catalog-service').addEventListener('change', fillEvents);
$('#catalog-event').addEventListener('change', fillFlags);
$('#catalog-generate').addEventListener('click', async () => {
  const params = {};
  for (const i of document.querySelectorAll('#catalog-flags input')) params[i.dataset.flag] = i.value;
  try {
    const ev = await api(`/api/catalog/${$('#catalog-service').value}/${$('#catalog-event').value}`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(params),
    });
    $('#invoke-event').value = JSON.stringify(ev, null, 2);
  } catch (e) { $('#invoke-result').textContent = e.message; }
});
$('#invoke-run').addEventListener('click', async () => {
  $('#invoke-result').textContent = 'running…';
  try {
    const r = await api(`/api/functions/${encodeURIComponent(invokeTarget)}/invoke`, { method: 'POST', body: $('#invoke-event').value });
    $('#invoke-result').textContent = `${r.status} in ${fmtMs(r.duration_ms)} (${r.request_id})\n${r.payload}`;
  } catch (e) { $('#invoke-result').textContent = e.message; }
});

// ------------------------------------------------------------------ routes
async function loadRoutes() {
  const r = await api('/api/routes');
  $('#apis').replaceChildren(...r.apis.map((a) => el('div', { class: 'panel api' },
    el('strong', {}, a.logical_id), ` ${a.api_type}, stage ${a.stage} `,
    a.cors ? el('span', { class: 'muted' }, `CORS: origins ${a.cors.allow_origins.join(', ') || '-'}; methods ${a.cors.allow_methods.join(', ') || '-'}; headers ${a.cors.allow_headers.join(', ') || '-'}${a.cors.allow_credentials ? '; credentials' : ''}${a.cors.max_age != null ? `; max age ${a.cors.max_age}` : ''}`)
      : el('span', { class: 'muted' }, 'no CORS'))));
  $('#routes-table tbody').replaceChildren(...r.routes.map((x) => el('tr', { class: 'clickable', onclick: () => {
    $('#send-method').value = x.method === 'ANY' ? 'GET' : x.method;
    $('#send-path').value = x.path.replace(/\{[^}]+\}/g, 'x');
  } },
  el('td', {}, x.api), el('td', {}, x.method), el('td', {}, x.path), el('td', {}, x.function),
  el('td', {}, x.authorizer || (x.refused ? 'refused' : 'none')), el('td', { class: 'muted' }, 'use in form'))));
}
$('#send-go').addEventListener('click', async () => {
  const headers = {};
  for (const line of $('#send-headers').value.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  $('#send-result').textContent = 'sending…';
  try {
    const r = await api('/api/routes/send', { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ method: $('#send-method').value, path: $('#send-path').value, headers, body: $('#send-body').value }) });
    $('#send-result').textContent = `HTTP ${r.status}\n${r.headers.map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${r.body}`;
  } catch (e) { $('#send-result').textContent = e.message; }
});

// ------------------------------------------------------------------ S3
let bucket = null, prefix = '', openKey = null;
async function loadBuckets() {
  const bs = await api('/api/s3/buckets');
  $('#buckets').replaceChildren(...bs.map((b) => el('div', { class: `bucket${b.name === bucket ? ' active' : ''}`, 'data-bucket': b.name, onclick: () => openBucket(b.name, '') },
    el('strong', {}, b.name), b.versioning !== 'off' ? el('span', { class: 'muted' }, ` versioning ${b.versioning}`) : null,
    ...b.bindings.map((x) => el('div', { class: 'binding' }, `${x.events.join(',')}${x.prefix ? ` prefix ${x.prefix}` : ''}${x.suffix ? ` suffix ${x.suffix}` : ''} → ${x.function}`)))));
  if (!bucket && bs.length) openBucket(bs[0].name, '');
}
async function openBucket(name, p) {
  bucket = name; prefix = p;
  for (const b of document.querySelectorAll('.bucket')) b.classList.toggle('active', b.dataset.bucket === name);
  $('#upload-form').hidden = false;
  const parts = prefix.split('/').filter(Boolean);
  $('#s3-path').replaceChildren(el('span', { class: 'crumb', onclick: () => openBucket(name, '') }, `s3://${name}/`),
    ...parts.map((seg, i) => el('span', { class: 'crumb', onclick: () => openBucket(name, parts.slice(0, i + 1).join('/') + '/') }, `${seg}/`)));
  const l = await api(`/api/s3/buckets/${encodeURIComponent(name)}/objects?prefix=${encodeURIComponent(prefix)}`);
  $('#objects-table tbody').replaceChildren(
    ...l.prefixes.map((p2) => el('tr', { class: 'clickable prefix', onclick: () => openBucket(name, p2) }, el('td', {}, `📁 ${p2.slice(prefix.length)}`), el('td'), el('td'), el('td'), el('td'))),
    ...l.objects.map((o) => el('tr', { class: 'clickable object', 'data-key': o.key, onclick: () => openObject(name, o.key) },
      el('td', {}, o.key.slice(prefix.length)), el('td', {}, fmtSize(o.size)), el('td', { class: 'muted' }, o.etag),
      el('td', {}, new Date(o.modified_ms).toLocaleString()), el('td', {}, o.versions))));
  if (l.truncated) $('#objects-table tbody').append(el('tr', {}, el('td', { class: 'muted' }, 'first 1000 entries shown')));
}
async function openObject(b, key) {
  if (current !== 's3') { location.hash = 's3'; }
  if (bucket !== b || !key.startsWith(prefix)) await openBucket(b, key.includes('/') ? key.slice(0, key.lastIndexOf('/') + 1) : '');
  openKey = key;
  const box = $('#object-detail');
  let o;
  try { o = await api(`/api/s3/buckets/${encodeURIComponent(b)}/object?key=${encodeURIComponent(key)}`); }
  catch (e) { box.replaceChildren(el('p', { class: 'empty' }, e.message)); return; }
  const v = o.versions[0];
  const content = `/api/s3/buckets/${encodeURIComponent(b)}/content?key=${encodeURIComponent(key)}`;
  const preview = el('div', { class: 'preview' });
  if (!v.delete_marker && v.content_type?.startsWith('image/')) preview.append(el('img', { src: content, alt: key }));
  else if (!v.delete_marker && v.size < 65536 && (!v.content_type || /^(text\/|application\/(json|xml|javascript))/.test(v.content_type))) {
    fetch(content).then((r) => r.text()).then((t) => preview.append(el('pre', {}, t)));
  }
  box.replaceChildren(
    el('h2', {}, key),
    el('div', { class: 'row' }, el('a', { href: `${content}&download=1` }, 'download'),
      el('button', { class: 'danger', id: 'delete-object', onclick: async () => {
        await api(`/api/s3/buckets/${encodeURIComponent(b)}/object?key=${encodeURIComponent(key)}`, { method: 'DELETE' });
        box.replaceChildren(); openBucket(b, prefix);
      } }, 'Delete')),
    el('dl', { class: 'meta' },
      el('dt', {}, 'size'), el('dd', {}, fmtSize(v.size)), el('dt', {}, 'ETag'), el('dd', {}, v.etag),
      el('dt', {}, 'content type'), el('dd', {}, v.content_type || ''),
      ...Object.entries(v.metadata).flatMap(([k, x]) => [el('dt', {}, `x-amz-meta-${k}`), el('dd', {}, x)])),
    preview,
    el('h3', {}, 'Versions'),
    el('table', { class: 'grid' }, el('tbody', {}, ...o.versions.map((x) => el('tr', {},
      el('td', {}, x.version_id), el('td', {}, x.delete_marker ? 'delete marker' : fmtSize(x.size)), el('td', { class: 'muted' }, x.etag),
      el('td', {}, new Date(x.modified_ms).toLocaleString()))))),
    el('h3', {}, 'Events and the invocations they caused'),
    el('div', { id: 'object-events' }, ...o.events.map((e) => el('div', {},
      `${fmtTime(e.time_ms)} ${e.event_name} → `,
      ...(e.invocations.length ? e.invocations.map((i) => el('a', { href: `#invocations/${i.id}`, class: 'linked-invocation' }, `${i.function} ${i.request_id.slice(0, 8)} (${i.status}) `))
        : [el('span', { class: 'muted' }, 'no invocation (yet)')])))),
  );
}
$('#upload-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const file = $('#upload-file').files[0];
  if (!file) return;
  const key = $('#upload-key').value || prefix + file.name;
  $('#upload-status').textContent = 'uploading…';
  try {
    await api(`/api/s3/buckets/${encodeURIComponent(bucket)}/object?key=${encodeURIComponent(key)}`, {
      method: 'PUT', headers: { 'content-type': file.type || 'application/octet-stream' }, body: file });
    $('#upload-status').textContent = `uploaded ${key}`;
    openBucket(bucket, prefix);
  } catch (err) { $('#upload-status').textContent = err.message; }
});

// ------------------------------------------------------------------ async
async function loadAsync() {
  const a = await api('/api/async');
  $('#async-table tbody').replaceChildren(...a.functions.map((f) => el('tr', {},
    el('td', {}, f.function), el('td', {}, f.pending), el('td', {}, f.retries), el('td', {}, f.dropped))));
  $('#dropped').replaceChildren(...(a.dropped.length ? a.dropped.slice().reverse().map((d) => el('div', { class: 'panel dropped' },
    el('strong', {}, d.function), ` dropped after ${d.attempts} attempt(s) at ${fmtTime(d.time_ms)}: ${d.error} `,
    el('a', { href: `/api/async/dropped/${d.id}/payload` }, `payload (${fmtSize(d.payload_size)})`),
    el('pre', {}, d.payload_preview))) : [el('p', { class: 'empty' }, 'none')]));
  $('#loops').replaceChildren(...(a.loops.length ? a.loops.slice().reverse().map((l) => el('div', { class: 'panel' },
    `${fmtTime(l.time_ms)} ${l.function} → s3://${l.bucket}/${l.key}: stopped after ${l.hops} hops`)) : [el('p', { class: 'empty' }, 'none')]));
}

const refresh = {
  functions: loadFunctions, routes: loadRoutes, s3: loadBuckets, async: loadAsync,
  invocations: () => paint(),
};

// ------------------------------------------------------------------ live feed
function connect() {
  const es = new EventSource('/api/stream');
  es.onopen = () => { $('#live').className = 'live on'; };
  es.onerror = () => { $('#live').className = 'live off'; };
  es.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    if (msg.type === 'invocation') {
      addInvocation(msg.data);
      if (current === 'functions') loadFunctions();
      if (current === 's3' && openKey) openObject(bucket, openKey);
    } else if (msg.type === 'object') {
      if (current === 's3' && msg.data.bucket === bucket) {
        openBucket(bucket, prefix);
        if (openKey === msg.data.key) openObject(bucket, openKey);
      }
    } else if (msg.type === 'resync') {
      loadInvocations();
    } else if (current === 'async') {
      loadAsync();
    } else if (current === 'functions') {
      loadFunctions();
    }
  };
}

async function start() {
  const o = await api('/api/overview');
  maxKept = Math.max(10000, o.history);
  $('#addresses').replaceChildren(...o.addresses.map((a) => el('a', { href: a.url, target: '_blank' }, `${a.name} ${a.url}`)));
  connect();
  await loadInvocations();
  route();
  setInterval(() => { if (current === 'functions') loadFunctions(); if (current === 'async') loadAsync(); }, 2000);
}
start();
