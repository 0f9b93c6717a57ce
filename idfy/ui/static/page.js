// Page-wide behaviour, loaded in <head> before the first render.
(() => {
  // A ?cfg= or ?preset= link: keep the Design tab hidden until the linked design is on screen, so the
  // default design never flashes first (the load chain's last browser step removes the class). The page's
  // early view sets the class already, in <head> (idfy.ui.early.LINKING_SCRIPT); this covers a page served
  // without it (a busy server) and owns the 20 s fallback.
  if (/[?&](cfg|preset)=/.test(window.location.search)) {
    document.documentElement.classList.add('idfy-linking');
    setTimeout(() => document.documentElement.classList.remove('idfy-linking'), 20000);
  }
  const help = () => window.IDFY_HELP || {fields: {}, choices: {}};
  const controlOf = (el) => el && el.closest && el.closest('[id^="c-"]');
  const valueOf = (box) => {
    const i = box.querySelector('input:not([type=hidden]), textarea');
    if (!i) return '';
    return i.type === 'checkbox' ? (i.checked ? 'on' : 'off') : i.value;
  };
  const describe = (box) => {
    const h = help(); const id = box.id;
    const text = h.fields[id]; if (!text) return '';
    const choice = (h.choices[id] || {})[valueOf(box)];
    return text + (choice ? ' Now: ' + valueOf(box) + ' — ' + choice + '.' : '');
  };
  const show = (box) => {
    const line = document.querySelector('#design-help .idfy-help'); if (!line || !box) return;
    const text = describe(box); if (text) line.textContent = text;
  };
  document.addEventListener('focusin', (e) => show(controlOf(e.target)));
  document.addEventListener('mouseover', (e) => show(controlOf(e.target)));
  // Tooltips on every control label (the same one-line descriptions).
  const titles = () => {
    const h = help();
    Object.keys(h.fields).forEach((id) => {
      const box = document.getElementById(id);
      if (box && !box.title) box.title = h.fields[id];
    });
  };
  document.addEventListener('DOMContentLoaded', () => setTimeout(titles, 1500));
  window.addEventListener('load', () => setTimeout(titles, 3000));
  // Gradio's empty placeholders carry an aria-label on a plain <div> (not allowed without a role).
  // Checked at most once per second (a design update inserts hundreds of SVG nodes).
  let roleTimer = null;
  new MutationObserver(() => {
    if (roleTimer) return;
    roleTimer = setTimeout(() => {
      roleTimer = null;
      document.querySelectorAll('.empty[aria-label]:not([role]), .unpadded_box[aria-label]:not([role])')
        .forEach((e) => e.setAttribute('role', 'img'));
    }, 1000);
  }).observe(document.documentElement, {subtree: true, childList: true});
  // Tabs: arrow keys, Home and End move between tabs (WAI-ARIA tabs pattern).
  document.addEventListener('keydown', (e) => {
    const tab = e.target.closest && e.target.closest('[role="tab"]');
    if (!tab || !['ArrowRight', 'ArrowLeft', 'Home', 'End'].includes(e.key)) return;
    const tabs = Array.from(tab.closest('[role="tablist"]').querySelectorAll('[role="tab"]'))
      .filter((t) => t.offsetParent !== null);
    const i = tabs.indexOf(tab);
    const j = e.key === 'Home' ? 0 : e.key === 'End' ? tabs.length - 1
      : (i + (e.key === 'ArrowRight' ? 1 : -1) + tabs.length) % tabs.length;
    e.preventDefault(); tabs[j].focus(); tabs[j].click();
  });
  // Dropdowns: keyboard focus alone does not open the list (it covered the next controls); Enter, Space,
  // ArrowDown or typing opens it. Mouse clicks open it as before.
  let pointer = false;
  document.addEventListener('pointerdown', () => { pointer = true; setTimeout(() => { pointer = false; }, 400); }, true);
  const isDropdown = (el) => el && el.matches && el.matches('input[role="combobox"], input[role="listbox"], .wrap-inner input.border-none');
  window.addEventListener('focus', (e) => {
    if (pointer || !isDropdown(e.target) || e.target.dataset.idfyOpen === '1') return;
    e.stopImmediatePropagation();
  }, true);
  document.addEventListener('keydown', (e) => {
    const el = e.target;
    if (!isDropdown(el) || !['Enter', ' ', 'ArrowDown'].includes(e.key)) return;
    if (el.getAttribute('aria-expanded') === 'true' || document.querySelector('ul.option-list')) return;
    e.preventDefault(); e.stopImmediatePropagation();
    el.dataset.idfyOpen = '1'; el.blur(); el.focus(); delete el.dataset.idfyOpen;
  }, true);
})();
