'use strict';
// The operator's console: polls this node's own view once a second, keeps the last minutes of samples
// in the page to chart each queue's depth and rates and each follower's replication lag, browses a
// queue's messages with their attempt history, and pauses, resumes, redrives and purges (admin).
// No build step and no libraries, so that every node serves it as is; charts are drawn on <canvas>;
// text goes in with textContent only, never as markup (the page runs under `default-src 'self'`).

const POLL_MS = 1000;
/** How far back the charts reach; older samples are dropped. */
const WINDOW_MS = 5 * 60 * 1000;
/** Charts for more queues than this would cost the page more than they tell. */
const CHARTED_QUEUES_MAX = 48;
const MESSAGES_PAGE = 50;
const BODY_SHOWN_MAX = 300;
const COLORS = { ready: '#2f81f7', inflight: '#bf8700', delayed: '#8250df', enqueued: '#1a7f37', acked: '#cf222e', lag: ['#2f81f7', '#bf8700', '#8250df', '#1a7f37', '#cf222e', '#57606a'] };

/** Per queue, what the polls saw: `{ t, ready, inflight, delayed, enqueueRate?, ackRate? }`, oldest first. */
const samples = new Map();
/** Per queue, its counters at the last poll, to turn totals into rates; `at` 0 after a failed poll. */
let previous = { at: 0, counters: new Map() };
/** Per follower, `{ t, lag }` while this node leads. */
const lagSamples = new Map();
/** The last answers, for the queue panel. */
let lastQueues = [];
/** The queue whose panel is open, and where its message list stands. */
let selected;
let messagesCursor;

/** Where the page keeps a token for this tab only: it is gone when the tab closes. */
const TOKEN_KEY = 'quorumq-token';

function storedToken() {
  try {
    return globalThis.sessionStorage ? globalThis.sessionStorage.getItem(TOKEN_KEY) : null;
  } catch {
    return null;
  }
}

let token = storedToken();

/** A node started with an auth file answers 401 without a token, 403 when the token may not do this. */
class NeedsToken extends Error {}

function authHeaders() {
  return token ? { authorization: `Bearer ${token}` } : {};
}

async function answerOf(response) {
  const body = await response.json();
  if (response.status === 401 || response.status === 403) throw new NeedsToken(body && body.error ? body.error.message : `HTTP ${response.status}`);
  if (!response.ok) throw new Error(body && body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${response.status}`);
  return body;
}

async function fetchJson(path) {
  return answerOf(await fetch(path, { cache: 'no-store', headers: authHeaders() }));
}

async function postJson(path, body) {
  return answerOf(await fetch(path, { method: 'POST', cache: 'no-store', headers: { 'content-type': 'application/json', ...authHeaders() }, body: JSON.stringify(body) }));
}

function queuePath(name, rest) {
  return `/queues/${encodeURIComponent(name)}${rest}`;
}

function askForToken(reason) {
  const form = document.getElementById('token-form');
  form.hidden = false;
  setStatus(`This node wants a token that may read (${reason}). Enter one above; it is kept in this tab only.`, true);
}

function listenForToken() {
  const form = document.getElementById('token-form');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    token = document.getElementById('token').value.trim() || null;
    try {
      if (globalThis.sessionStorage) globalThis.sessionStorage.setItem(TOKEN_KEY, token || '');
    } catch {
      // Storage may be off (private windows): the token then lasts until the page reloads.
    }
    form.hidden = true;
  });
}

// ------------------------------------------------------------------ DOM helpers (textContent only)

function cell(row, text, className) {
  const td = document.createElement('td');
  td.textContent = text === undefined || text === null ? '–' : String(text);
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function replaceRows(tableId, rows, emptyText, columns) {
  const body = document.querySelector(`#${tableId} tbody`);
  body.replaceChildren();
  if (rows.length === 0) {
    const row = document.createElement('tr');
    cell(row, emptyText, 'empty').colSpan = columns;
    body.appendChild(row);
  }
  for (const row of rows) body.appendChild(row);
}

function facts(listId, pairs) {
  const list = document.getElementById(listId);
  list.replaceChildren();
  for (const [name, value] of pairs) {
    if (value === undefined) continue;
    const dt = document.createElement('dt');
    dt.textContent = name;
    const dd = document.createElement('dd');
    dd.textContent = String(value);
    list.append(dt, dd);
  }
}

function timeOf(ms) {
  return typeof ms === 'number' ? new Date(ms).toLocaleTimeString() : undefined;
}

function json(value, max) {
  let text;
  try {
    text = JSON.stringify(value);
  } catch {
    text = String(value);
  }
  if (text === undefined) return '–';
  return max !== undefined && text.length > max ? `${text.slice(0, max)}…` : text;
}

function setStatus(text, down) {
  const status = document.getElementById('status');
  status.textContent = text;
  status.className = down ? 'down' : '';
}

// ------------------------------------------------------------------ charts on <canvas>

/** Rounds a chart's top up to 1, 2 or 5 times a power of ten. */
function niceCeiling(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function shortNumber(value) {
  if (value >= 1e6) return `${(value / 1e6).toFixed(value >= 1e7 ? 0 : 1)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(value >= 1e4 ? 0 : 1)}k`;
  return String(Math.round(value * 10) / 10);
}

/**
 * Draws lines over the last WINDOW_MS: `series` is `[{ label, color, points: [[t, value]] }]`,
 * a value of undefined leaving a gap. Does nothing where there is no 2D canvas.
 */
function drawChart(canvas, series, now) {
  if (!canvas || typeof canvas.getContext !== 'function') return;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const width = canvas.width;
  const height = canvas.height;
  const left = 44;
  const right = 8;
  const top = 22;
  const bottom = 18;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  let max = 0;
  for (const line of series) for (const [, value] of line.points) if (value !== undefined && value > max) max = value;
  const ceiling = niceCeiling(max);
  const x = (t) => left + plotWidth * (1 - (now - t) / WINDOW_MS);
  const y = (value) => top + plotHeight * (1 - value / ceiling);
  ctx.clearRect(0, 0, width, height);
  ctx.font = '11px system-ui, sans-serif';
  ctx.lineWidth = 1;
  ctx.strokeStyle = '#e1e4e8';
  ctx.fillStyle = '#57606a';
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'right';
  for (const fraction of [0, 0.5, 1]) {
    const value = ceiling * fraction;
    ctx.beginPath();
    ctx.moveTo(left, Math.round(y(value)) + 0.5);
    ctx.lineTo(width - right, Math.round(y(value)) + 0.5);
    ctx.stroke();
    ctx.fillText(shortNumber(value), left - 4, y(value));
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'alphabetic';
  for (let minute = 5; minute >= 0; minute--) {
    const at = x(now - minute * 60_000);
    ctx.fillText(minute === 0 ? 'now' : `-${minute}m`, Math.min(Math.max(at, left + 8), width - right - 10), height - 4);
  }
  ctx.lineWidth = 1.5;
  for (const line of series) {
    ctx.strokeStyle = line.color;
    ctx.beginPath();
    let drawing = false;
    for (const [t, value] of line.points) {
      if (value === undefined) {
        drawing = false;
        continue;
      }
      if (drawing) ctx.lineTo(x(t), y(value));
      else ctx.moveTo(x(t), y(value));
      drawing = true;
    }
    ctx.stroke();
    // A dot on the latest value, so that a line of one sample (a page just opened) shows too.
    const last = line.points.length > 0 ? line.points[line.points.length - 1] : undefined;
    if (last !== undefined && last[1] !== undefined) {
      ctx.fillStyle = line.color;
      ctx.beginPath();
      ctx.arc(x(last[0]), y(last[1]), 2.5, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
  // The legend, with each line's latest value.
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  let at = left;
  for (const line of series) {
    const last = line.points.length > 0 ? line.points[line.points.length - 1][1] : undefined;
    const text = `${line.label} ${last === undefined ? '–' : shortNumber(last)}`;
    ctx.fillStyle = line.color;
    ctx.fillRect(at, 7, 10, 10);
    ctx.fillStyle = '#1b1f23';
    ctx.fillText(text, at + 14, 12);
    at += 24 + ctx.measureText(text).width;
  }
}

function depthSeries(history) {
  return [
    { label: 'ready', color: COLORS.ready, points: history.map((s) => [s.t, s.ready]) },
    { label: 'in flight', color: COLORS.inflight, points: history.map((s) => [s.t, s.inflight]) },
    { label: 'delayed', color: COLORS.delayed, points: history.map((s) => [s.t, s.delayed]) },
  ];
}

function rateSeries(history) {
  return [
    { label: 'enqueues/s', color: COLORS.enqueued, points: history.map((s) => [s.t, s.enqueueRate]) },
    { label: 'acks/s', color: COLORS.acked, points: history.map((s) => [s.t, s.ackRate]) },
  ];
}

/** One card per queue (name, depth chart, rate chart), kept from poll to poll. */
const queueCards = new Map();

function renderQueueCharts(queues, now) {
  const shown = queues.slice(0, CHARTED_QUEUES_MAX);
  const cards = shown.map((queue) => {
    let card = queueCards.get(queue.name);
    if (card === undefined) {
      const figure = document.createElement('figure');
      const caption = document.createElement('figcaption');
      caption.textContent = queue.name;
      const depth = document.createElement('canvas');
      depth.width = 320;
      depth.height = 120;
      depth.className = 'chart';
      const rates = document.createElement('canvas');
      rates.width = 320;
      rates.height = 120;
      rates.className = 'chart';
      figure.append(caption, depth, rates);
      card = { figure, depth, rates };
      queueCards.set(queue.name, card);
    }
    const history = samples.get(queue.name) ?? [];
    drawChart(card.depth, depthSeries(history), now);
    drawChart(card.rates, rateSeries(history), now);
    return card.figure;
  });
  for (const name of [...queueCards.keys()]) if (!shown.some((queue) => queue.name === name)) queueCards.delete(name);
  const container = document.getElementById('queue-charts');
  const current = container.children ? [...container.children] : [];
  if (current.length !== cards.length || current.some((child, index) => child !== cards[index])) container.replaceChildren(...cards);
}

// ------------------------------------------------------------------ this node and its members

function renderSelf(cluster) {
  const self = cluster.self;
  const leader = cluster.leader ? `${cluster.leader.id} (${cluster.leader.address ?? 'address unknown'})` : 'none known';
  facts('self', [
    ['role', self.role + (self.recovering ? ', recovering lost data' : '')],
    ['term', self.term],
    ['leader', leader],
    ['commit index', self.commitIndex],
    ['applied index', self.appliedIndex],
  ]);
  document.getElementById('node').textContent = `${self.address} · ${self.id}`;
  document.title = `quorumq ${self.address} (${self.role})`;
}

function memberRow(member, leaderId) {
  const row = document.createElement('tr');
  cell(row, member.id + (member.id === leaderId ? ' ★' : ''), member.id === leaderId ? 'leader text' : 'text');
  const address = cell(row, '', 'text');
  if (member.address) {
    const link = document.createElement('a');
    link.href = `http://${member.address}/dashboard`;
    link.textContent = member.address;
    address.replaceChildren(link);
  }
  cell(row, member.inGossip === false ? 'unknown' : member.state, member.inGossip === false ? 'warn text' : `${member.state} text`);
  cell(row, member.raft ?? 'not a member', 'text');
  cell(row, member.connected ? 'up' : 'down', member.connected ? 'alive text' : 'dead text');
  cell(row, member.matchIndex);
  return row;
}

function lagRow(member, lag) {
  const row = document.createElement('tr');
  cell(row, member.id, 'text');
  cell(row, member.matchIndex);
  cell(row, lag, lag > 100 ? 'bad' : lag > 0 ? 'warn' : '');
  return row;
}

/** Replication lag per member: the leader's last index (its own match) minus each member's match index. */
function renderMembers(cluster, now) {
  const leaderId = cluster.leader ? cluster.leader.id : undefined;
  const leading = cluster.self.role === 'leader';
  const head = leading ? Math.max(cluster.self.commitIndex, ...cluster.members.map((member) => member.matchIndex ?? 0)) : undefined;
  const lagOf = (member) => (head === undefined || member.matchIndex === undefined ? undefined : Math.max(0, head - member.matchIndex));
  replaceRows('members', cluster.members.map((member) => memberRow(member, leaderId)), 'no members known', 6);
  const note = document.getElementById('lag-note');
  const chart = document.getElementById('lag-chart');
  const table = document.getElementById('replication');
  table.hidden = !leading;
  if (!leading) {
    lagSamples.clear();
    const address = cluster.leader && cluster.leader.address;
    note.textContent = address
      ? `Only the leader knows how far each follower has got: open the leader's console (${address}) for replication lag.`
      : 'No leader known: replication lag shows on the leader once there is one.';
    chart.hidden = true;
    return;
  }
  note.textContent = "Lag: entries the leader has that a member has not acknowledged yet (the leader's last index minus its match index).";
  const followers = cluster.members.filter((member) => member.id !== cluster.self.id && member.matchIndex !== undefined);
  replaceRows('replication', followers.map((member) => lagRow(member, lagOf(member))), 'no followers', 3);
  for (const member of followers) {
    const list = lagSamples.get(member.id) ?? [];
    list.push([now, lagOf(member)]);
    lagSamples.set(member.id, list);
  }
  for (const [id, list] of lagSamples) {
    if (!followers.some((member) => member.id === id)) lagSamples.delete(id);
    else trim(list, (point) => point[0], now);
  }
  chart.hidden = followers.length === 0;
  drawChart(
    chart,
    [...lagSamples].map(([id, points], index) => ({ label: `lag ${id}`, color: COLORS.lag[index % COLORS.lag.length], points })),
    now,
  );
}

function trim(list, timeOfItem, now) {
  let drop = 0;
  while (drop < list.length && now - timeOfItem(list[drop]) > WINDOW_MS) drop++;
  if (drop > 0) list.splice(0, drop);
}

// ------------------------------------------------------------------ queues

/** One row per queue, kept from poll to poll so that a click never lands on a row being replaced. */
const queueRows = new Map();

function queueRow(queue) {
  let entry = queueRows.get(queue.name);
  if (entry === undefined) {
    const row = document.createElement('tr');
    if (row.dataset) row.dataset.queue = queue.name;
    const nameCell = document.createElement('td');
    nameCell.className = 'text';
    const open = document.createElement('button');
    open.type = 'button';
    open.className = 'link';
    open.textContent = queue.name;
    open.addEventListener('click', () => selectQueue(queue.name));
    nameCell.appendChild(open);
    row.appendChild(nameCell);
    const cells = ['ready', 'inflight', 'delayed', 'dead', 'enqueued', 'acked', 'enqueueRate', 'ackRate'].map((key) => {
      const td = cell(row, '');
      if (td.dataset) td.dataset.field = key;
      return td;
    });
    entry = { row, open, cells };
    queueRows.set(queue.name, entry);
  }
  const history = samples.get(queue.name) ?? [];
  const last = history[history.length - 1];
  const values = [queue.ready, queue.inflight, queue.delayed, queue.dead, queue.enqueued, queue.acked, last?.enqueueRate?.toFixed(1), last?.ackRate?.toFixed(1)];
  values.forEach((value, index) => {
    entry.cells[index].textContent = value === undefined ? '–' : String(value);
  });
  entry.cells[3].className = queue.dead > 0 ? 'bad' : '';
  entry.row.className = queue.paused ? 'paused' : '';
  entry.open.title = queue.paused ? 'paused: delivers nothing until resumed' : '';
  return entry.row;
}

function renderQueues(queues) {
  const body = document.querySelector('#queues tbody');
  for (const name of [...queueRows.keys()]) if (!queues.some((queue) => queue.name === name)) queueRows.delete(name);
  const rows = queues.map(queueRow);
  if (rows.length === 0) {
    replaceRows('queues', [], 'no queues yet', 9);
    return;
  }
  const current = body.children ? [...body.children] : [];
  if (current.length !== rows.length || current.some((child, index) => child !== rows[index])) body.replaceChildren(...rows);
}

/** Samples each queue's depth and, from the counters' change since the last poll, its rates. */
function sample(queues, at) {
  const seconds = previous.at === 0 ? 0 : (at - previous.at) / 1000;
  for (const queue of queues) {
    const before = previous.counters.get(queue.name);
    const rate = (now, then) => (before === undefined || seconds <= 0 ? undefined : Math.max(0, (now - then) / seconds));
    const history = samples.get(queue.name) ?? [];
    history.push({
      t: at,
      ready: queue.ready,
      inflight: queue.inflight,
      delayed: queue.delayed,
      enqueueRate: rate(queue.enqueued, before?.enqueued),
      ackRate: rate(queue.acked, before?.acked),
    });
    trim(history, (point) => point.t, at);
    samples.set(queue.name, history);
  }
  for (const name of [...samples.keys()]) if (!queues.some((queue) => queue.name === name)) samples.delete(name);
  previous = { at, counters: new Map(queues.map((queue) => [queue.name, { enqueued: queue.enqueued, acked: queue.acked }])) };
}

// ------------------------------------------------------------------ the queue panel

function selectQueue(name) {
  selected = name;
  document.getElementById('queue-panel').hidden = false;
  document.getElementById('message-detail').hidden = true;
  setActionResult('', false);
  renderQueuePanel(performance.now());
  loadMessages(true);
}

/** The queues that `name` is the dead-letter queue of, as their configs say. */
function originsOf(name) {
  return lastQueues.filter((queue) => queue.config && queue.config.deadLetterQueue === name && queue.config.maxDeliveries > 0).map((queue) => queue.name);
}

function renderQueuePanel(now) {
  if (selected === undefined) return;
  const queue = lastQueues.find((candidate) => candidate.name === selected);
  document.getElementById('queue-name').textContent = selected;
  if (queue === undefined) {
    document.getElementById('queue-paused').hidden = true;
    facts('queue-config', [['state', 'gone: this queue no longer exists']]);
    return;
  }
  const config = queue.config ?? {};
  const origins = originsOf(queue.name);
  document.getElementById('queue-paused').hidden = !queue.paused;
  facts('queue-config', [
    ['counts', `ready ${queue.ready} · in flight ${queue.inflight} · delayed ${queue.delayed} · dead-lettered ${queue.dead} · ${queue.bytes ?? 0} bytes`],
    ['dead letters of', origins.length > 0 ? origins.join(', ') : undefined],
    ['max deliveries', config.maxDeliveries === 0 ? 'unlimited' : config.maxDeliveries],
    ['dead-letter queue', config.maxDeliveries > 0 ? config.deadLetterQueue : undefined],
    ['visibility', config.visibilityMs === undefined ? undefined : `${config.visibilityMs} ms`],
    ['backoff', config.backoff ? `${config.backoff.baseMs}..${config.backoff.maxMs} ms` : undefined],
    ['max length', config.maxLength],
    ['message TTL', config.messageTtlMs ? `${config.messageTtlMs} ms` : undefined],
  ]);
  document.getElementById('action-pause').disabled = queue.paused === true;
  document.getElementById('action-resume').disabled = queue.paused !== true;
  const redrive = document.getElementById('action-redrive');
  redrive.textContent = origins.length > 0 ? `Redrive to ${origins.join(', ')}` : 'Redrive to origin';
  const counts = { ready: queue.ready, delayed: queue.delayed, inflight: queue.inflight, dead: queue.dead };
  const select = document.getElementById('message-state');
  for (const option of select.options ?? []) {
    const base = option.dataset.label ?? (option.dataset.label = option.textContent);
    option.textContent = counts[option.value] === undefined ? base : `${base} (${counts[option.value]})`;
  }
  const history = samples.get(queue.name) ?? [];
  drawChart(document.getElementById('depth-chart'), depthSeries(history), now);
  drawChart(document.getElementById('rate-chart'), rateSeries(history), now);
}

function setActionResult(text, bad) {
  const result = document.getElementById('action-result');
  result.textContent = text;
  result.className = bad ? 'bad' : '';
}

const ACTIONS = {
  pause: {
    ask: (name) => `Pause ${name}? It keeps taking enqueues and delivers nothing until resumed.`,
    run: async (name) => `${name} is ${(await postJson(queuePath(name, '/pause'), {})).paused ? 'paused' : 'not paused'}.`,
  },
  resume: {
    ask: (name) => `Resume ${name}? Its consumers get messages again.`,
    run: async (name) => `${name} is ${(await postJson(queuePath(name, '/resume'), {})).paused ? 'still paused' : 'delivering again'}.`,
  },
  redrive: {
    ask: (name) => `Redrive ${name}? Its ready messages go back, as new messages, to the queues they were dead-lettered from.`,
    run: async (name) => {
      // A call answers after a while at the latest: ask again while it moves some and some remain.
      let moved = 0;
      let remaining = 0;
      for (let calls = 0; calls < 10_000; calls++) {
        const answer = await postJson(queuePath(name, '/redrive'), {});
        moved += answer.moved;
        remaining = answer.remaining;
        if (!(answer.moved > 0 && answer.remaining > 0)) break;
        setActionResult(`Redriving ${name}: ${moved} moved, ${remaining} to go…`, false);
      }
      return `Redrove ${moved} message${moved === 1 ? '' : 's'} from ${name}${remaining > 0 ? `; ${remaining} stay (no origin to go back to)` : ''}.`;
    },
  },
  purge: {
    ask: (name) => `Purge ${name}? Every ready, delayed and in-flight message in it is dropped for good.`,
    run: async (name) => `Purged ${(await postJson(queuePath(name, '/purge'), {})).purged} messages from ${name}.`,
  },
};

async function act(kind) {
  const name = selected;
  const action = ACTIONS[kind];
  if (name === undefined || !globalThis.confirm(action.ask(name))) return;
  const buttons = Object.keys(ACTIONS).map((key) => document.getElementById(`action-${key}`));
  for (const button of buttons) button.disabled = true;
  setActionResult(`${kind}…`, false);
  try {
    setActionResult(await action.run(name), false);
  } catch (error) {
    if (error instanceof NeedsToken) {
      document.getElementById('token-form').hidden = false;
      setActionResult(`Refused (${error.message}): ${kind} needs a token with admin on ${name}. Enter one above and try again.`, true);
    } else {
      setActionResult(`${kind} failed: ${error instanceof Error ? error.message : error}`, true);
    }
  } finally {
    for (const button of buttons) button.disabled = false;
    renderQueuePanel(performance.now());
    if (selected === name) loadMessages(true);
  }
}

// ------------------------------------------------------------------ messages and their history
// Asked for on demand and read through the leader (no `stale`), so that a list reloaded after an
// action already shows what it did, whichever node this page is on.

async function loadMessages(fromStart) {
  if (selected === undefined) return;
  const name = selected;
  const state = document.getElementById('message-state').value || 'ready';
  if (fromStart) messagesCursor = undefined;
  const query = `?state=${encodeURIComponent(state)}&limit=${MESSAGES_PAGE}${messagesCursor ? `&after=${encodeURIComponent(messagesCursor)}` : ''}`;
  const more = document.getElementById('messages-more');
  try {
    const page = await fetchJson(queuePath(name, `/messages${query}`));
    if (selected !== name) return;
    messagesCursor = page.next;
    more.hidden = page.next === undefined;
    const rows = page.messages.map((message) => messageRow(name, message));
    replaceRows('messages', rows, `no ${state} messages${fromStart ? '' : ' on this page'}`, 7);
  } catch (error) {
    more.hidden = true;
    replaceRows('messages', [], `could not list messages: ${error instanceof Error ? error.message : error}`, 7);
  }
}

function messageRow(queueName, message) {
  const row = document.createElement('tr');
  if (row.dataset) row.dataset.id = message.id;
  const idCell = cell(row, '', 'text');
  const open = document.createElement('button');
  open.type = 'button';
  open.className = 'link';
  open.textContent = message.id;
  open.addEventListener('click', () => showMessage(queueName, message.id));
  idCell.appendChild(open);
  cell(row, message.seq);
  cell(row, message.attempt);
  cell(row, message.priority);
  cell(row, timeOf(message.enqueuedAt), 'text');
  const origin = message.deadLetter;
  cell(row, origin ? `${origin.queue} (${origin.reason}, ${origin.attempts} attempt${origin.attempts === 1 ? '' : 's'})` : undefined, 'text');
  const bodyCell = cell(row, '', 'text body');
  const code = document.createElement('code');
  code.textContent = 'body' in message ? json(message.body, BODY_SHOWN_MAX) : '(not kept in this state)';
  if ('body' in message) code.title = json(message.body, 4096);
  bodyCell.replaceChildren(code);
  return row;
}

async function showMessage(queueName, id) {
  const detail = document.getElementById('message-detail');
  document.getElementById('message-id').textContent = `${id} in ${queueName}`;
  detail.hidden = false;
  try {
    const status = await fetchJson(queuePath(queueName, `/messages/${encodeURIComponent(id)}`));
    const origin = status.deadLetter;
    facts('message-status', [
      ['state', status.state],
      ['seq', status.seq],
      ['attempt', status.attempt],
      ['priority', status.priority],
      ['enqueued', timeOf(status.enqueuedAt)],
      ['expires', timeOf(status.expiresAt)],
      ['available at', timeOf(status.availableAt)],
      ['delivered', timeOf(status.deliveredAt)],
      ['lease ends', timeOf(status.leaseDeadline)],
      ['acked', timeOf(status.ackedAt)],
      ['result', status.result === undefined ? undefined : json(status.result, BODY_SHOWN_MAX)],
      ['dead since', timeOf(status.deadAt)],
      ['dead because', status.deadReason],
      ['moved to', status.deadLetterQueue ? `${status.deadLetterQueue} as ${status.deadLetterId}` : undefined],
      ['dead-lettered from', origin ? `${origin.queue} (message ${origin.id}, ${origin.reason} after ${origin.attempts} attempt${origin.attempts === 1 ? '' : 's'})` : undefined],
    ]);
    const attempts = [
      ...(origin && Array.isArray(origin.history) ? origin.history.map((attempt) => [origin.queue, attempt]) : []),
      ...(Array.isArray(status.history) ? status.history.map((attempt) => [queueName, attempt]) : []),
    ];
    replaceRows(
      'message-history',
      attempts.map(([where, attempt]) => {
        const row = document.createElement('tr');
        cell(row, where, 'text');
        cell(row, attempt.attempt);
        cell(row, timeOf(attempt.deliveredAt), 'text');
        cell(row, timeOf(attempt.endedAt), 'text');
        cell(row, attempt.outcome, attempt.outcome === 'acked' ? 'alive text' : 'warn text');
        cell(row, attempt.error, 'text');
        return row;
      }),
      'no attempt has ended yet',
      6,
    );
  } catch (error) {
    facts('message-status', [['error', error instanceof Error ? error.message : String(error)]]);
    replaceRows('message-history', [], '–', 6);
  }
}

function listenForActions() {
  for (const kind of Object.keys(ACTIONS)) document.getElementById(`action-${kind}`).addEventListener('click', () => act(kind));
  document.getElementById('message-state').addEventListener('change', () => loadMessages(true));
  document.getElementById('messages-reload').addEventListener('click', () => loadMessages(true));
  document.getElementById('messages-more').addEventListener('click', () => loadMessages(false));
}

// ------------------------------------------------------------------ the poll

async function refresh() {
  try {
    const [cluster, list] = await Promise.all([fetchJson('/cluster?stale=1'), fetchJson('/queues?stale=1')]);
    const at = performance.now();
    renderSelf(cluster);
    renderMembers(cluster, at);
    const queues = [...list.queues].sort((a, b) => a.name.localeCompare(b.name));
    lastQueues = queues;
    sample(queues, at);
    renderQueues(queues);
    renderQueueCharts(queues, at);
    renderQueuePanel(at);
    setStatus(`Updated ${new Date().toLocaleTimeString()}`, false);
  } catch (error) {
    previous = { at: 0, counters: new Map() };
    if (error instanceof NeedsToken) {
      askForToken(error.message);
      return;
    }
    setStatus(`This node does not answer (${error instanceof Error ? error.message : error}); retrying every second. Open another member's dashboard to follow the cluster meanwhile.`, true);
  } finally {
    setTimeout(refresh, POLL_MS);
  }
}

listenForToken();
listenForActions();
refresh();
