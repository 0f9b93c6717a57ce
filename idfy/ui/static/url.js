// Keeps the address bar and the share field on the current design; the first time, it also reveals a
// linked design (see page.js).
(token) => {
  document.documentElement.classList.remove('idfy-linking');
  const early = document.getElementById('idfy-early');  // the first response's strip (early.js)
  if (early) early.remove();
  if (!token) return [];
  const u = new URL(window.location.href);
  u.searchParams.delete('preset');
  u.searchParams.set('cfg', token);
  window.history.replaceState(window.history.state, '', u);
  return [u.toString()];
}
