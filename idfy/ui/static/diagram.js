// Diagram viewport (gr.HTML js_on_load): zoom buttons, ctrl+wheel zoom, drag to pan, keyboard zoom and a
// Netron-like inspector: clicking (or Enter on) a node shows its module path, shapes, params, MACs,
// receptive field and the controls that shape it.
let s = 1, drag = null, moved = false;
const vp = () => element.querySelector('.idfy-diagram-viewport');
const svg = () => element.querySelector('.idfy-diagram-canvas svg');
const ratio = (g) => { const vb = g.viewBox && g.viewBox.baseVal; return vb && vb.width ? vb.height / vb.width : 1; };
const base = () => {
  const g = svg(), v = vp(); if (!g || !v) return 600;
  const vb = g.viewBox && g.viewBox.baseVal; const natural = (vb && vb.width ? vb.width : 600) * 4 / 3;
  return Math.max(120, Math.min(v.clientWidth - 6, natural * 1.25));
};
const apply = () => { const g = svg(); if (g) { g.style.width = (base() * s) + 'px'; g.style.height = (base() * s * ratio(g)) + 'px'; } };
const zoomAt = (f, cx, cy) => {
  const v = vp(); const ns = Math.min(12, Math.max(0.1, s * f)); const k = ns / s;
  const sx = v.scrollLeft + cx, sy = v.scrollTop + cy; s = ns; apply();
  v.scrollLeft = sx * k - cx; v.scrollTop = sy * k - cy;
};
const fit = () => {
  const g = svg(), v = vp(); if (!g || !v) return;
  s = Math.min(1, (v.clientHeight - 48) / (base() * ratio(g))); apply(); v.scrollTop = 0; v.scrollLeft = 0;
};
const nodes = () => {
  const c = element.querySelector('.idfy-diagram-canvas');
  try { return JSON.parse((c && c.dataset.nodes) || '{}'); } catch (err) { return {}; }
};
const esc = (t) => String(t).replace(/[&<>"]/g, (ch) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[ch]));
const inspect = (g) => {
  const panel = element.querySelector('.idfy-inspector'); if (!panel) return;
  element.querySelectorAll('g.node.idfy-picked').forEach((n) => n.classList.remove('idfy-picked'));
  const id = g && g.querySelector('title') ? g.querySelector('title').textContent : null;
  const info = id ? nodes()[id] : null;
  if (!info) { panel.hidden = true; return; }
  g.classList.add('idfy-picked');
  const rows = [['module', info.path], ['input', info.in], ['output', info.out], ['params', info.params],
    ['MACs', info.macs], ['receptive field', info.rf]].concat(info.total ? [['whole model', info.total]] : []);
  panel.innerHTML = '<div class="idfy-inspector-head"><b>' + esc(info.name) + '</b>' +
    '<button type="button" class="idfy-inspector-close" aria-label="close the node details">×</button></div>' +
    '<dl>' + rows.map((r) => '<dt>' + r[0] + '</dt><dd>' + esc(r[1]) + '</dd>').join('') + '</dl>' +
    (info.fields.length ? '<div class="idfy-inspector-fields"><span>set by (click to edit)</span><ul>' +
      info.fields.map((f, i) => '<li><button type="button" class="idfy-goto" data-control="' +
        esc((info.controls || [])[i] || '') + '">' + esc(f) + '</button></li>').join('') + '</ul></div>' : '');
  panel.hidden = false;
  // The panel takes width from the viewport: refit the diagram, then scroll the picked node into view so
  // the panel never hides it.
  requestAnimationFrame(() => { apply(); reveal(g); });
};
const reveal = (g) => {
  const v = vp(); if (!v || !g) return;
  const r = g.getBoundingClientRect(), b = v.getBoundingClientRect(), pad = 12;
  if (r.right > b.right - pad) v.scrollLeft += r.right - b.right + pad;
  if (r.left < b.left + pad) v.scrollLeft -= b.left - r.left + pad;
  if (r.bottom > b.bottom - pad) v.scrollTop += r.bottom - b.bottom + pad;
  if (r.top < b.top + pad) v.scrollTop -= b.top - r.top + pad;
};
// Wide windows: the viewport reaches down to the bottom of the first screen (controls, strip and diagram on
// one screen); narrow ones keep the stylesheet's height.
const fill = () => {
  const v = vp(); if (!v) return;
  if (!window.matchMedia('(min-width: 1001px)').matches) { v.style.height = ''; return; }
  const top = v.getBoundingClientRect().top + window.scrollY;
  v.style.height = Math.max(340, window.innerHeight - top - 12) + 'px';
  const panel = element.querySelector('.idfy-inspector'); if (panel) panel.style.maxHeight = v.style.height;
};
window.addEventListener('resize', fill);
const ready = () => {
  fill();
  const known = nodes();
  element.querySelectorAll('.idfy-diagram-canvas g.node').forEach((g) => {
    const t = g.querySelector('title'); if (!t || t.textContent === 'legend') return;
    g.setAttribute('tabindex', '0'); g.setAttribute('role', 'button');
    const info = known[t.textContent];  // named as the page names it ("stage 2 inject"), not by module path
    g.setAttribute('aria-label', 'details of ' + (info ? info.name : t.textContent.replace(/\//g, '.')));
  });
  const panel = element.querySelector('.idfy-inspector'); if (panel) panel.hidden = true;
};
// A "set by" field clicked: open the accordions around its control (summary.js), scroll it into view and
// focus it.
const goto = (id) => {
  if (!id || !window.idfyShowControl) return;
  window.idfyShowControl(id, (box) => {
    // the controls column scrolls on its own in wide windows (the page, and the diagram, stay put)
    const col = document.getElementById('design-controls'), r = box.getBoundingClientRect();
    if (col && col.scrollHeight > col.clientHeight + 1 && getComputedStyle(col).overflowY !== 'visible') {
      const c = col.getBoundingClientRect(); col.scrollTop += r.top - (c.top + c.height / 3);
    } else window.scrollBy(0, r.top - window.innerHeight / 3);
    const input = box.querySelector('input, textarea'); if (input) input.focus({preventScroll: true});
  });
};
element.addEventListener('click', (e) => {
  if (e.target.closest('.idfy-inspector-close')) { inspect(null); return; }
  const go = e.target.closest('.idfy-goto'); if (go) { goto(go.dataset.control); return; }
  const node = e.target.closest('g.node');
  if (node && !moved) { inspect(node); return; }
  const b = e.target.closest('[data-zoom]'); if (!b) return;
  const v = vp(); const k = b.dataset.zoom;
  if (k === 'fit') fit();
  else if (k === 'width') { s = 1; apply(); v.scrollTop = 0; }
  else zoomAt(k === 'in' ? 1.25 : 0.8, v.clientWidth / 2, v.clientHeight / 2);
});
element.addEventListener('keydown', (e) => {
  const node = e.target.closest && e.target.closest('g.node');
  if (node && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); inspect(node); }
  else if (e.key === 'Escape') inspect(null);
  else if (e.target.closest && e.target.closest('.idfy-diagram-viewport') && (e.key === '+' || e.key === '-')) {
    const v = vp(); zoomAt(e.key === '+' ? 1.25 : 0.8, v.clientWidth / 2, v.clientHeight / 2);
  }
});
element.addEventListener('wheel', (e) => {
  const v = e.target.closest('.idfy-diagram-viewport'); if (!v || !(e.ctrlKey || e.metaKey)) return;
  e.preventDefault(); const r = v.getBoundingClientRect();
  zoomAt(e.deltaY < 0 ? 1.15 : 1 / 1.15, e.clientX - r.left, e.clientY - r.top);
}, {passive: false});
element.addEventListener('pointerdown', (e) => {
  const v = e.target.closest('.idfy-diagram-viewport'); if (!v || e.button !== 0) return;
  moved = false;
  drag = {px: e.clientX, py: e.clientY, l: v.scrollLeft, t: v.scrollTop};
});
window.addEventListener('pointermove', (e) => {
  if (!drag) return;
  const dx = e.clientX - drag.px, dy = e.clientY - drag.py;
  if (!moved && Math.abs(dx) + Math.abs(dy) < 4) return;
  moved = true; element.classList.add('idfy-dragging');
  const v = vp(); v.scrollLeft = drag.l - dx; v.scrollTop = drag.t - dy;
});
window.addEventListener('pointerup', () => { drag = null; element.classList.remove('idfy-dragging'); });
window.idfyDiagramReady = () => { apply(); ready(); };  // the fast path (fast.js) sets the SVG by hand
watch('value', () => { apply(); ready(); });
apply(); ready();
