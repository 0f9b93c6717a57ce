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
  if (!stale) return;
  const fid = strip.dataset.errorField;
  const box = fid ? document.getElementById(fid) : null;
  if (!box) return;
  box.classList.add('idfy-invalid');
  const msg = document.createElement('div');
  msg.className = FIELD_MSG; msg.id = fid + '-message'; msg.setAttribute('role', 'alert');
  const body = strip.querySelector('.idfy-error-body');
  msg.textContent = body ? body.textContent : 'invalid value';
  const fixes = strip.querySelector('.idfy-fixes');
  if (fixes) msg.appendChild(fixes.cloneNode(true));
  box.appendChild(msg);
  box.querySelectorAll('input, textarea').forEach((i) => {
    i.setAttribute('aria-invalid', 'true'); i.setAttribute('aria-describedby', msg.id);
  });
  const acc = box.closest('.idfy-acc, .idfy-stage');
  if (acc && box.offsetParent === null) {  // inside a closed accordion: open it so the mark is seen
    const b = acc.querySelector('button.label-wrap'); if (b) b.click();
  }
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
