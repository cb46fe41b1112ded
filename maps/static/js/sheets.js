// The phone layout (issue 18 §5) and the skip link (§4). On a phone (PHONE_QUERY: narrow, or a
// phone held landscape) the map fills the screen and the panels are sheets that the bottom bar
// opens one at a time: the ranking, the settings (weights, filters, layers), the site's detail
// and the comparison. `<body data-sheet-open="…">` names the open one ('' = the map alone); the CSS
// shows it, below the map upright and beside it landscape. The header's actions fold into a menu
// button. Above the phone breakpoint nothing here changes the layout.
// The skip link focuses the ranking without moving the page (its default, a jump to #ranking,
// scrolled the document and replaced MapLibre's #map= camera in the URL).

export const PHONE_QUERY = 'screen and (max-width: 900px), screen and (max-height: 480px) and (max-width: 1023px)';
export const SHEETS = ['', 'ranking', 'controls', 'detail', 'compare'];

/**
 * Wire the bottom bar, the header menu and the skip link. `nav` holds buttons with
 * data-sheet="<name>"; `menu` is the header's action group and `menuButton` its toggle.
 * Returns {open(name), current(), isPhone()}.
 */
export function initSheets({ store, getT, toast, nav, menu, menuButton, skip, ranking }) {
  const body = document.body;
  const phone = window.matchMedia(PHONE_QUERY);
  const isPhone = () => phone.matches;
  let lastTap = -Infinity;

  const current = () => body.dataset.sheetOpen || '';
  const paint = () => {
    for (const b of nav.querySelectorAll('[data-sheet]')) b.setAttribute('aria-pressed', String(b.dataset.sheet === current()));
  };
  function open(name) {
    const next = SHEETS.includes(name) ? name : '';
    if (next === 'compare' && !store.state.cmp.length) {
      toast(getT()('compare.none'));
      return;
    }
    body.dataset.sheetOpen = next;
    if (next === 'compare' && !store.state.compareOpen) store.openCompare(true);
    if (next !== 'compare' && store.state.compareOpen && isPhone()) store.openCompare(false);
    paint();
  }

  nav.addEventListener('click', (e) => {
    const b = e.target.closest('[data-sheet]');
    if (b) open(b.dataset.sheet);
  });

  // a site tapped in the list or on the map: show its detail (keyboard moves in the list do not)
  document.addEventListener('pointerup', (e) => {
    if (e.target.closest?.('[data-testid=ranking], #map')) lastTap = performance.now();
  }, true);
  store.addEventListener('change', (ev) => {
    const k = ev.detail.keys;
    if (k.has('sel') && store.state.sel && isPhone() && performance.now() - lastTap < 1500) open('detail');
    if (k.has('compareOpen') || k.has('cmp')) {
      const showing = store.state.compareOpen && store.state.cmp.length > 0;
      if (showing && current() !== 'compare') open('compare');
      else if (!showing && current() === 'compare') open('');
    }
  });

  // the header menu (phone only: above the breakpoint its buttons stand in the header)
  const setMenu = (on) => {
    body.classList.toggle('menu-open', on);
    menuButton.setAttribute('aria-expanded', String(on));
  };
  menuButton.addEventListener('click', () => setMenu(!body.classList.contains('menu-open')));
  menu.addEventListener('click', (e) => { if (e.target.closest('button')) setMenu(false); });
  document.addEventListener('click', (e) => {
    if (body.classList.contains('menu-open') && !e.target.closest('.bar-actions')) setMenu(false);
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && body.classList.contains('menu-open')) {
      setMenu(false);
      menuButton.focus();
    }
  });
  phone.addEventListener('change', () => setMenu(false));

  skip.addEventListener('click', (e) => {
    e.preventDefault();
    if (isPhone()) open('ranking');
    ranking.focus({ preventScroll: true });
  });

  const s = store.state;
  body.dataset.sheetOpen = '';
  if (isPhone()) {
    if (s.compareOpen && s.cmp.length) open('compare');
    else if (s.sel) open('detail');
  }
  paint();
  return { open, current, isPhone };
}
