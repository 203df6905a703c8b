// The invoice view's live parts: the server's event stream says when the invoice changed, and
// the page fetches its status, timeline and audit again and swaps them in, without a reload.
// Served as a static file with its SHA-256 in the name and in `integrity` (the page's CSP
// allows scripts from the console's own origin only; no inline script anywhere).
'use strict';
(function () {
  const main = document.getElementById('main');
  const events = main && main.dataset.events;
  const live = main && main.dataset.live;
  const target = document.getElementById('live');
  if (!events || !live || !target || typeof EventSource === 'undefined') return;
  let busy = false;
  let again = false;
  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const response = await fetch(live, { credentials: 'same-origin', headers: { accept: 'text/html' } });
      if (response.ok) {
        const doc = new DOMParser().parseFromString(await response.text(), 'text/html');
        const fresh = doc.getElementById('live');
        if (fresh) target.replaceChildren(...fresh.childNodes);
        main.dataset.refreshed = String(Date.now());
      } else if (response.status === 401) {
        window.location.assign('/console/login');
      }
    } finally {
      busy = false;
      if (again) { again = false; refresh(); }
    }
  }
  const source = new EventSource(events);
  source.addEventListener('changed', refresh);
  source.addEventListener('signed_out', () => { source.close(); window.location.assign('/console/login'); });
})();
