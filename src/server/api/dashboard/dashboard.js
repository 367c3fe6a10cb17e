'use strict';
// The live dashboard: polls this node's own view once a second. No build step and no libraries, so
// that it is served as is by every node; text goes in with textContent only, never as markup.

const POLL_MS = 1000;
/** Per queue, the counters of the previous poll, to turn totals into rates. */
let previous = { at: 0, counters: new Map() };

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

/** A node started with an auth file answers 401 without a token: the page asks for one (read suffices). */
class NeedsToken extends Error {}

async function fetchJson(path) {
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  const response = await fetch(path, { cache: 'no-store', headers });
  const body = await response.json();
  if (response.status === 401 || response.status === 403) throw new NeedsToken(body && body.error ? body.error.message : `HTTP ${response.status}`);
  if (!response.ok) throw new Error(body && body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${response.status}`);
  return body;
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

function renderSelf(cluster) {
  const self = cluster.self;
  const leader = cluster.leader ? `${cluster.leader.id} (${cluster.leader.address ?? 'address unknown'})` : 'none known';
  const facts = [
    ['role', self.role + (self.recovering ? ', recovering lost data' : '')],
    ['term', self.term],
    ['leader', leader],
    ['commit index', self.commitIndex],
    ['applied index', self.appliedIndex],
  ];
  const list = document.getElementById('self');
  list.replaceChildren();
  for (const [name, value] of facts) {
    const dt = document.createElement('dt');
    dt.textContent = name;
    const dd = document.createElement('dd');
    dd.textContent = String(value);
    list.append(dt, dd);
  }
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

function queueRow(queue, seconds) {
  const row = document.createElement('tr');
  cell(row, queue.name, 'text');
  cell(row, queue.ready);
  cell(row, queue.inflight);
  cell(row, queue.delayed);
  cell(row, queue.dead, queue.dead > 0 ? 'bad' : '');
  cell(row, queue.enqueued);
  cell(row, queue.acked);
  const before = previous.counters.get(queue.name);
  const rate = (now, then) => (before === undefined || seconds <= 0 ? undefined : Math.max(0, (now - then) / seconds).toFixed(1));
  cell(row, rate(queue.enqueued, before?.enqueued));
  cell(row, rate(queue.acked, before?.acked));
  return row;
}

function setStatus(text, down) {
  const status = document.getElementById('status');
  status.textContent = text;
  status.className = down ? 'down' : '';
}

async function refresh() {
  try {
    const [cluster, list] = await Promise.all([fetchJson('/cluster?stale=1'), fetchJson('/queues?stale=1')]);
    const at = performance.now();
    const seconds = previous.at === 0 ? 0 : (at - previous.at) / 1000;
    renderSelf(cluster);
    const leaderId = cluster.leader ? cluster.leader.id : undefined;
    replaceRows('members', cluster.members.map((member) => memberRow(member, leaderId)), 'no members known', 6);
    const queues = [...list.queues].sort((a, b) => a.name.localeCompare(b.name));
    replaceRows('queues', queues.map((queue) => queueRow(queue, seconds)), 'no queues yet', 9);
    previous = { at, counters: new Map(queues.map((queue) => [queue.name, { enqueued: queue.enqueued, acked: queue.acked }])) };
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
refresh();
