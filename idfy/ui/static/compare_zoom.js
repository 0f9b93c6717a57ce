// Compare tab: zoom buttons of each diagram in the grid (the gr.HTML's js_on_load, `element` is its root):
// the SVG's width in % of its cell, 50-600 %.
element.addEventListener('click', (e) => {
  const b = e.target.closest('[data-gzoom]'); if (!b) return;
  const cell = b.closest('.idfy-grid-cell'); const svg = cell && cell.querySelector('.idfy-grid-svg svg');
  if (!svg) return;
  const now = parseFloat(svg.dataset.zoom || '100');
  const next = b.dataset.gzoom === 'fit' ? 100 : Math.min(600, Math.max(50, now * (b.dataset.gzoom === 'in' ? 1.5 : 1 / 1.5)));
  svg.dataset.zoom = String(next); svg.style.width = next + '%';
});
