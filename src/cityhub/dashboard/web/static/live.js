// The live connection: server-sent events of changed entities for one city, batched per
// animation frame, and a visible (and announced) status: live / reconnecting / offline.
import { liveUrl } from './api.js';
import { t } from './i18n.js';

const RETRY_MS = [1000, 2000, 5000, 10000, 30000];
const state = {
  source: null, tenant: null, onChanges: null, onResync: null, status: null,
  queue: [], frame: 0, retry: 0, timer: 0, state: null, everOpen: false,
};

export function initLive(statusElement) {
  state.status = statusElement;
  addEventListener('offline', () => setState('offline'));
  addEventListener('online', () => {
    if (state.tenant && state.state !== 'live') reconnectNow();
  });
  setState('reconnecting');
}

function setState(next) {
  if (state.state === next && next !== 'reconnecting') return;
  state.state = next;
  const el = state.status;
  el.dataset.state = next;
  const key = next === 'reconnecting' && !state.everOpen ? 'connecting' : next;
  el.querySelector('.status-text').textContent = t(`status.${key}`);
}

function flush() {
  state.frame = 0;
  const events = state.queue;
  state.queue = [];
  if (events.length) state.onChanges(events);
}

function onChange(message) {
  let data;
  try {
    data = JSON.parse(message.data);
  } catch {
    return;
  }
  state.queue.push(data);
  // rAF does not run in a hidden tab: fall back to a timer so the data stays current.
  if (!state.frame) {
    state.frame = document.hidden ? setTimeout(flush, 250) : requestAnimationFrame(flush);
  }
}

function open() {
  clearTimeout(state.timer);
  const source = new EventSource(liveUrl(state.tenant));
  state.source = source;
  source.addEventListener('change', onChange);
  source.addEventListener('open', () => {
    // A brand-new connection (not EventSource's own resume) may have missed changes.
    if (state.retry > 0 && state.everOpen) state.onResync?.();
    state.retry = 0;
    state.everOpen = true;
    setState('live');
  });
  source.addEventListener('error', () => {
    if (state.source !== source) return;
    if (source.readyState === EventSource.CONNECTING) {
      setState(navigator.onLine === false ? 'offline' : 'reconnecting');
      return;
    }
    // Closed for good (an HTTP error): try again later with a new connection.
    source.close();
    setState(navigator.onLine === false ? 'offline' : 'reconnecting');
    const delay = RETRY_MS[Math.min(state.retry, RETRY_MS.length - 1)];
    state.retry += 1;
    if (state.retry > RETRY_MS.length) setState('offline');
    state.timer = setTimeout(open, delay);
  });
}

function reconnectNow() {
  state.source?.close();
  state.retry = Math.max(state.retry, 1);
  open();
}

/**
 * Follow a city's changes. onChanges(events) gets each frame's events (Features, or
 * {id, deleted}); onResync() is called when a new connection may have missed some.
 */
export function followCity(tenant, onChanges, onResync) {
  stopLive();
  Object.assign(state, { tenant, onChanges, onResync, retry: 0, everOpen: false, queue: [] });
  setState('reconnecting');
  open();
}

function stopLive() {
  clearTimeout(state.timer);
  if (state.frame) {
    cancelAnimationFrame(state.frame);
    clearTimeout(state.frame);
  }
  state.frame = 0;
  state.source?.close();
  state.source = null;
}
