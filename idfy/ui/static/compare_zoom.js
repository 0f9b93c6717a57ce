// Compare tab: each diagram of the grid zooms and pans like the Design tab's viewer (the gr.HTML's js_on_load,
// `element` is its root; the grid is redrawn on every comparison, so the handlers are delegated): the +, − and
// fit buttons, Ctrl + wheel at the pointer, the + / − / 0 keys on a focused diagram, and drag to pan. The zoom
// is the SVG's width in % of its cell, 50–600 %; the cell scrolls.
const MIN = 50, MAX = 600, STEP = 1.5;
const parts = (t) => {
  const cell = t && t.closest && t.closest('.idfy-grid-cell');
  const box = cell && cell.querySelector('.idfy-grid-svg'); const svg = box && box.querySelector('svg');
  return svg ? {box, svg} : null;
};
const level = (svg) => parseFloat(svg.dataset.zoom || '100');
const zoomTo = (p, next, cx, cy) => {
  const now = level(p.svg); next = Math.min(MAX, Math.max(MIN, next));
  if (cx === undefined) { cx = p.box.clientWidth / 2; cy = p.box.clientHeight / 2; }
  const sx = p.box.scrollLeft + cx, sy = p.box.scrollTop + cy, k = next / now;
  p.svg.dataset.zoom = String(next); p.svg.style.width = next + '%';
  p.box.scrollLeft = sx * k - cx; p.box.scrollTop = sy * k - cy;
};
const fit = (p) => { zoomTo(p, 100); p.box.scrollLeft = 0; p.box.scrollTop = 0; };
element.addEventListener('click', (e) => {
  const b = e.target.closest('[data-gzoom]'); const p = b && parts(b); if (!p) return;
  if (b.dataset.gzoom === 'fit') fit(p);
  else zoomTo(p, level(p.svg) * (b.dataset.gzoom === 'in' ? STEP : 1 / STEP));
});
element.addEventListener('wheel', (e) => {
  if (!(e.ctrlKey || e.metaKey)) return;  // a plain wheel scrolls the page
  const p = parts(e.target); if (!p || !p.box.contains(e.target)) return;
  e.preventDefault();
  const r = p.box.getBoundingClientRect();
  zoomTo(p, level(p.svg) * (e.deltaY < 0 ? 1.2 : 1 / 1.2), e.clientX - r.left, e.clientY - r.top);
}, {passive: false});
element.addEventListener('keydown', (e) => {
  if (!e.target.classList || !e.target.classList.contains('idfy-grid-svg')) return;
  const p = parts(e.target); if (!p) return;
  if (e.key === '+' || e.key === '=') zoomTo(p, level(p.svg) * STEP);
  else if (e.key === '-' || e.key === '_') zoomTo(p, level(p.svg) / STEP);
  else if (e.key === '0') fit(p);
  else return;
  e.preventDefault();
});
let drag = null;
element.addEventListener('pointerdown', (e) => {
  const p = parts(e.target); if (!p || e.button !== 0 || !p.box.contains(e.target)) return;
  drag = {p, x: e.clientX, y: e.clientY, left: p.box.scrollLeft, top: p.box.scrollTop};
  p.box.style.cursor = 'grabbing';
});
window.addEventListener('pointermove', (e) => {
  if (!drag) return;
  drag.p.box.scrollLeft = drag.left - (e.clientX - drag.x); drag.p.box.scrollTop = drag.top - (e.clientY - drag.y);
});
window.addEventListener('pointerup', () => { if (drag) { drag.p.box.style.cursor = ''; drag = null; } });
