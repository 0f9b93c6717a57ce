// Design tab fast path (loaded in <head>): on a typed change, ask POST /idfy/design for the summary strip and,
// in a second request sent at the same moment, the diagram, each one plain JSON round trip (no Gradio queue),
// and put them on the page as they arrive. The Gradio event for the same edit still runs and stays the source
// of truth (table, link, diagram, errors at the control). Both requests leave from the capture-phase listener,
// before Gradio's own input handlers run: those (gathering every control's value, ~100-250 ms of the page's one
// thread) used to run first and delay the numbers' request (benchmarks/results/app_latency.md).
(() => {
  const ROUTE = new URL('idfy/design', window.location.origin + window.location.pathname.replace(/[^/]*$/, ''));
  // Controls whose choice first adjusts other controls on the server (conv kind -> groups, order <-> steps):
  // their result waits for the Gradio event.
  const CHAINED = /^c-(stem|stages-\d)-conv-kind$|^c-block-order(_text)?$/;
  let seq = 0, shown = 0, inFlight = false, again = false;
  const typed = new Map();  // control id -> the value typed (read before Gradio syncs its partner inputs)
  const answered = new Set();  // link tokens of the designs this script has shown

  const keyOf = (id) => id.slice(2).replace(/-/g, '.');
  const read = (input) => {
    if (input.type === 'checkbox') return input.checked;
    if (input.type === 'number' || input.type === 'range') return input.value === '' ? '' : Number(input.value);
    return input.value;
  };
  const valueOf = (box) => {
    const radio = box.querySelector('input[type=radio]');
    if (radio) { const on = box.querySelector('input[type=radio]:checked'); return on ? on.value : undefined; }
    const input = box.querySelector('input[type=checkbox]') || box.querySelector('input[type=number]')
      || box.querySelector('input, textarea');
    return input ? read(input) : undefined;
  };
  const values = () => {
    const out = {};
    Object.keys((window.IDFY_HELP || {fields: {}}).fields).forEach((id) => {
      if (!id.startsWith('c-')) return;
      if (typed.has(id)) { out[keyOf(id)] = typed.get(id); return; }
      const box = document.getElementById(id);
      if (!box) return;  // a hidden control: the server keeps the base design's value
      const v = valueOf(box);
      if (v !== undefined) out[keyOf(id)] = v;
    });
    return out;
  };
  const base = () => {
    const token = new URL(window.location.href).searchParams.get('cfg');
    if (token) return token;
    const preset = document.querySelector('#preset input');
    return preset ? preset.value : '';
  };
  const show = (html) => {
    const strip = document.querySelector('#design-summary .idfy-strip');
    if (!strip) return;
    const t = document.createElement('template');
    t.innerHTML = html;
    const fresh = t.content.firstElementChild;
    if (!fresh) return;
    // Same element, new content: the component's own renderer keeps owning the node.
    Array.from(fresh.attributes).forEach((a) => strip.setAttribute(a.name, a.value));
    strip.innerHTML = fresh.innerHTML;
    if (window.idfyMark) window.idfyMark();
  };
  const post = async (body) => {
    const r = await fetch(ROUTE, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
    return r.json();
  };
  const showDiagram = (html) => {
    const v = document.querySelector('#diagram .idfy-diagram-viewport');
    if (!v) return;
    v.innerHTML = html;
    if (window.idfyDiagramReady) window.idfyDiagramReady();
  };
  const send = async () => {
    if (inFlight) { again = true; return; }
    inFlight = true;
    const mine = ++seq;
    const presetBox = document.querySelector('#preset input');
    const preset = presetBox ? presetBox.value : null;
    const from = base();
    const body = {base: from, preset, values: values()};
    typed.clear();
    // News only: a design other than the one the request started from, and no event this script did not
    // answer first (a dropdown, a preset, a fix) has put another design on the page meanwhile (the link
    // changes when it does; an earlier edit's Gradio event brings a design shown here before, which is older).
    const news = (data) => {
      const later = new URL(window.location.href).searchParams.get('cfg');
      return data.ok && data.token !== from && (!later || later === from || answered.has(later));
    };
    const on = document.querySelector('#diagram-detail input:checked');
    // The diagram's request leaves with the numbers': the server analyses the design once (the second
    // request waits for the first's analysis), then lays the diagram out while the numbers travel.
    const numbers = post(body);
    const picture = post({...body, diagram: on ? on.value : 'stages'}).catch(() => null);
    try {
      const data = await numbers;
      if (news(data) && mine > shown) {
        shown = mine;
        answered.add(data.token);
        show(data.summary);
      }
    } catch (err) {
      // the Gradio event shows the result anyway
    } finally {
      inFlight = false;
      if (again) { again = false; send(); }
    }
    const pic = await picture;
    if (pic && news(pic) && pic.diagram && mine === seq && mine === shown) showDiagram(pic.diagram);
  };
  document.addEventListener('input', (e) => {
    const box = e.target.closest && e.target.closest('#tab-design [id^="c-"]');
    if (!box || CHAINED.test(box.id) || !(window.IDFY_HELP || {fields: {}}).fields[box.id]) return;
    if (box.querySelector('[role=combobox], [role=listbox]')) return;  // dropdowns: Gradio's event
    if (!(e.target instanceof HTMLInputElement)) return;
    // Sent now, before Gradio's handlers sync the control's partner inputs (a slider's number box): the
    // value typed is read from the event's own input.
    if (!e.target.matches('[type=radio]')) typed.set(box.id, read(e.target));
    send();
  }, true);
})();
