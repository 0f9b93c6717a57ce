// The early view (idfy.ui.early), run as soon as the body starts: the early strip sits over the spot of
// Gradio's strip and is removed once that one shows (a link's design stays hidden in Gradio's page until it
// is loaded: the class is set in <head>, idfy.ui.early.LINKING_SCRIPT).
(() => {
  const early = document.getElementById('idfy-early');
  if (!early) return;
  const root = document.documentElement;
  let frame = 0, obs = null;
  const done = () => { early.remove(); if (obs) obs.disconnect(); window.removeEventListener('resize', later); };
  const place = () => {
    frame = 0;
    if (!early.isConnected) { done(); return; }
    const real = document.getElementById('design-summary');
    if (!real) return;
    if (real.querySelector('.idfy-strip') && !root.classList.contains('idfy-linking')) { done(); return; }
    const r = real.getBoundingClientRect();
    early.style.visibility = r.width ? '' : 'hidden';  // another tab is shown (or mid-mount)
    if (!r.width) return;
    early.classList.add('idfy-early-mounted');
    early.style.top = `${r.top + window.scrollY}px`;
    early.style.left = `${r.left + window.scrollX}px`;
    early.style.width = `${r.width}px`;
  };
  const later = () => { if (!frame) frame = requestAnimationFrame(place); };
  obs = new MutationObserver(later);
  obs.observe(root, {subtree: true, childList: true, attributes: true, attributeFilter: ['class', 'style']});
  window.addEventListener('resize', later);
  // never left on screen: Gradio's own fallback reveals the page after 20 s (page.js)
  setTimeout(() => { if (early.isConnected && document.getElementById('design-summary')) done(); }, 25000);
})();
