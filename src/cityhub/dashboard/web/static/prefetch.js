// Ask for the config and the city's layers as soon as the page is parsed, before the
// modules (MapLibre is large) have loaded; api.js picks these answers up.
(() => {
  const requests = new Map();
  const start = (url) => {
    const key = url.pathname + url.search;
    requests.set(key, fetch(url, { headers: { Accept: 'application/json' } }));
  };
  window.cityhubPrefetch = {
    /** The pending fetch for this URL, once (later calls fetch again). */
    take(url) {
      const key = url.pathname + url.search;
      const pending = requests.get(key);
      requests.delete(key);
      return pending;
    },
  };
  let lang = 'en';
  try {
    lang = JSON.parse(document.getElementById('boot').textContent).lang || lang;
  } catch {
    return;
  }
  const base = new URL('/dashboard/api/', location.origin);
  const config = new URL('config', base);
  const key = config.pathname + config.search;
  const pending = fetch(config, { headers: { Accept: 'application/json' } });
  // Reactions run in the order they were added: the app's copy is cloned before this
  // script reads the body.
  requests.set(key, pending.then((r) => r.clone()));
  const hash = decodeURIComponent(location.hash.slice(1));
  if (hash === 'compare') return;
  pending.then((r) => (r.ok ? r.json() : null)).then((cfg) => {
    if (!cfg) return;
    const wanted = /^city\/(.+)$/.exec(hash)?.[1];
    let saved = null;
    try {
      saved = localStorage.getItem('cityhub.city');
    } catch { /* storage may be off */ }
    const city = cfg.cities.find((c) => c.tenant === wanted)
      || cfg.cities.find((c) => c.tenant === saved) || cfg.cities[0];
    if (!city) return;
    for (const { id } of cfg.layers) {
      const url = new URL(`cities/${encodeURIComponent(city.tenant)}/layers/${encodeURIComponent(id)}`, base);
      url.searchParams.set('lang', lang);
      start(url);
    }
  }).catch(() => {});
})();
