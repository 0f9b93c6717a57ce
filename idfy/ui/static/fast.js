// Design tab fast path (loaded in <head>): on a typed change, ask POST /idfy/design for the summary strip in
// one plain JSON round trip (no Gradio queue) and put it on the page at once. The Gradio event for the same
// edit still runs and stays the source of truth (table, link, diagram, errors at the control).
(() => {
  const ROUTE = new URL('idfy/design', window.location.origin + window.location.pathname.replace(/[^/]*$/, ''));
  // Controls whose choice first adjusts other controls on the server (conv kind -> groups, order <-> steps):
  // their result waits for the Gradio event.
  const CHAINED = /^c-(stem|stages-\d)-conv-kind$|^c-block-order(_text)?$/;
  let seq = 0, shown = 0, inFlight = false, again = false;

  const keyOf = (id) => id.slice(2).replace(/-/g, '.');
  const valueOf = (box) => {
    const radio = box.querySelector('input[type=radio]');
    if (radio) { const on = box.querySelector('input[type=radio]:checked'); return on ? on.value : undefined; }
    const check = box.querySelector('input[type=checkbox]');
    if (check) return check.checked;
    const num = box.querySelector('input[type=number]');
    if (num) return num.value === '' ? '' : Number(num.value);
    const text = box.querySelector('input, textarea');
    return text ? text.value : undefined;
  };
  const values = () => {
    const out = {};
    Object.keys((window.IDFY_HELP || {fields: {}}).fields).forEach((id) => {
      if (!id.startsWith('c-')) return;
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
    try {
      const data = await post({base: from, preset, values: values()});
      // Shown only if it is news: a design other than the one the request started from, and the Gradio
      // event has not put a later design on the page meanwhile (the link changes when it does).
      const later = new URL(window.location.href).searchParams.get('cfg');
      if (data.ok && mine > shown && data.token !== from && (!later || later === from)) {
        shown = mine;
        show(data.summary);
        // then the diagram of the same design (its numbers are cached on the server by now)
        const on = document.querySelector('#diagram-detail input:checked');
        const pic = await post({base: data.token, preset, values: {}, diagram: on ? on.value : 'stages'});
        if (pic.ok && pic.diagram && mine === seq) showDiagram(pic.diagram);
      }
    } catch (err) {
      // the Gradio event shows the result anyway
    } finally {
      inFlight = false;
      if (again) { again = false; send(); }
    }
  };
  document.addEventListener('input', (e) => {
    const box = e.target.closest && e.target.closest('#tab-design [id^="c-"]');
    if (!box || CHAINED.test(box.id) || !(window.IDFY_HELP || {fields: {}}).fields[box.id]) return;
    if (box.querySelector('[role=combobox], [role=listbox]')) return;  // dropdowns: Gradio's event
    setTimeout(send, 0);  // after the control's own handlers have settled its value
  }, true);
})();
