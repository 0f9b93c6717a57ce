// Summary strip (gr.HTML js_on_load): mark the control an error names (aria-invalid, outline, the message
// next to it), mark the results stale while the design is invalid, and send a clicked fix to the server.
const FIELD_MSG = 'idfy-field-error';
const clear = () => {
  document.querySelectorAll('.idfy-invalid').forEach((box) => {
    box.classList.remove('idfy-invalid');
    box.querySelectorAll('[aria-invalid]').forEach((i) => { i.removeAttribute('aria-invalid'); i.removeAttribute('aria-describedby'); });
  });
  document.querySelectorAll('.' + FIELD_MSG).forEach((m) => m.remove());
};
const mark = () => {
  document.querySelectorAll('#fix-apply, #fix-request textarea, #fix-request input').forEach((e) => {
    e.tabIndex = -1; e.setAttribute('aria-hidden', 'true');
  });
  const strip = element.querySelector('.idfy-strip');
  const stale = !!strip && strip.dataset.stale === '1';
  clear();
  document.body.classList.toggle('idfy-stale', stale);
  if (!stale) { shown = ''; return; }
  const fid = strip.dataset.errorField;
  const box = fid ? document.getElementById(fid) : null;
  if (!box || box.offsetParent === null) {  // in a closed accordion: open it, then mark
    if (fid && opening !== fid) { opening = fid; window.idfyShowControl(fid, () => { opening = ''; mark(); }); }
    return;
  }
  box.classList.add('idfy-invalid');
  const msg = document.createElement('div');
  msg.className = FIELD_MSG; msg.id = fid + '-message'; msg.setAttribute('role', 'alert');
  const body = strip.querySelector('.idfy-error-body');
  msg.textContent = body ? body.textContent : 'invalid value';
  const fixes = strip.querySelector('.idfy-fixes');
  if (fixes) msg.appendChild(fixes.cloneNode(true));
  // Right under the row of controls that holds the field, as wide as the row (inside a narrow field the
  // message would be a tall column running below the window).
  const row = box.closest('.row');
  if (row && row.id !== 'design-row' && row.closest('#design-controls')) row.after(msg);
  else box.appendChild(msg);
  box.querySelectorAll('input, textarea').forEach((i) => {
    i.setAttribute('aria-invalid', 'true'); i.setAttribute('aria-describedby', msg.id);
  });
  const said = fid + '|' + msg.textContent;
  if (said !== shown) { shown = said; requestAnimationFrame(() => requestAnimationFrame(() => reveal(box, msg))); }
};
let opening = '';
// The accordions around a control, outermost first. Gradio renders a closed accordion's content only when it
// is first opened, so they follow from the control's id (see layout.py), not from walking up the page.
const accordionsOf = (id) => {
  const m = /^c-stages-(\d+)-/.exec(id);
  if (m) return ['acc-stages', 'stage-' + (Number(m[1]) + 1)];
  const table = [[/^c-input-/, 'acc-input'], [/^c-stem-/, 'acc-stem'], [/^c-stages-/, 'acc-stages'],
    [/^c-block-/, 'acc-block'], [/^c-inject-/, 'acc-inject'], [/^c-(head-|task$|num_classes$)/, 'acc-head']];
  const hit = table.find((t) => t[0].test(id));
  return hit ? [hit[1]] : [];
};
// Opens the accordions that hide control `id` (each clicked once, outermost first, inner ones as soon as
// they are rendered) and calls done(box) once the control is on the page; gives up after ~1.5 s.
window.idfyShowControl = (id, done) => {
  const clicked = new Set();
  let tries = 0;
  const step = () => {
    for (const a of accordionsOf(id)) {
      const b = document.querySelector('#' + a + ' button.label-wrap');
      if (!b) break;  // not rendered yet
      if (!b.classList.contains('open')) { if (!clicked.has(a)) { clicked.add(a); b.click(); } break; }
    }
    const box = document.getElementById(id);
    if (box && box.offsetParent !== null) done(box);
    else if (tries++ < 90) requestAnimationFrame(step);
  };
  step();
};
// Scrolls the field and its message into view when either is outside the visible part of the page: below
// the pinned strip, inside the controls column when it scrolls on its own (wide windows).
let shown = '';
const reveal = (box, msg) => {
  if (!box.isConnected || !msg.isConnected) return;
  const col = document.getElementById('design-controls');
  const own = col && col.scrollHeight > col.clientHeight + 1 && getComputedStyle(col).overflowY !== 'visible';
  const strip = document.getElementById('design-summary');
  const a = box.getBoundingClientRect(), m = msg.getBoundingClientRect();
  const top = Math.min(a.top, m.top), bottom = Math.max(a.bottom, m.bottom);
  let from = Math.max(0, strip ? strip.getBoundingClientRect().bottom : 0) + 8, to = window.innerHeight - 8;
  if (own) { const c = col.getBoundingClientRect(); from = Math.max(from, c.top + 8); to = Math.min(to, c.bottom - 8); }
  let d = 0;
  if (bottom > to) d = bottom - to;
  if (top - d < from) d = top - from;  // a tall pair: the field first
  if (!d) return;
  if (own) col.scrollTop += d; else window.scrollBy(0, d);
};
if (!window.idfyFixListener) {
  window.idfyFixListener = true;
  document.addEventListener('click', (e) => {
    const b = e.target.closest && e.target.closest('[data-fix-field]'); if (!b) return;
    const apply = document.querySelector('#fix-apply'); if (!apply) return;
    window.idfyFix = JSON.stringify({field: b.dataset.fixField, value: b.dataset.fixValue});
    apply.click();
  });
}
window.idfyMark = mark;  // the fast path (fast.js) sets the strip by hand, then calls this
watch('value', () => requestAnimationFrame(mark));
requestAnimationFrame(mark);
// The strip's height positions the sticky controls column and sizes the diagram below it.
const stripBlock = element.closest('#design-summary') || element;
new ResizeObserver(() => {
  document.documentElement.style.setProperty('--idfy-strip-h', Math.ceil(stripBlock.getBoundingClientRect().height) + 'px');
}).observe(stripBlock);
