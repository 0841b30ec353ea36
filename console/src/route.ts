import { useEffect, useRef, useState } from 'preact/hooks';

/**
 * The console's views, in the URL's fragment (the server and CloudFront serve one page):
 * `#/keys` the signed-in account's API keys, `#/subusers` its subusers, `#/subusers/<name>/keys`
 * a subuser's API keys, managed with `on-behalf-of`. Links are real links: Back, reload and a
 * new tab keep the view.
 */
export type Route = { view: 'keys'; subuser?: string } | { view: 'subusers' };

const SUBUSER_KEYS = /^#\/subusers\/([^/]+)\/keys$/;

export function parseRoute(hash: string): Route {
  if (hash === '#/subusers') return { view: 'subusers' };
  const match = SUBUSER_KEYS.exec(hash);
  if (match?.[1]) {
    try {
      return { view: 'keys', subuser: decodeURIComponent(match[1]) };
    } catch {
      // a malformed escape: not a view
    }
  }
  return { view: 'keys' };
}

export function hrefOf(route: Route): string {
  if (route.view === 'subusers') return '#/subusers';
  return route.subuser === undefined
    ? '#/keys'
    : `#/subusers/${encodeURIComponent(route.subuser)}/keys`;
}

/** Set when the view changes after the page loaded: the next page heading takes the focus. */
let headingFocusPending = false;

/** The current view; it follows the fragment (links, Back, Forward). */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => {
      headingFocusPending = true;
      setRoute(parseRoute(location.hash));
    };
    addEventListener('hashchange', onChange);
    // Effects run after the first paint: a fragment changed in between (a link opened in a tab
    // that is still loading) fired its hashchange before anyone listened. Catch up once.
    setRoute((shown) => {
      const now = parseRoute(location.hash);
      return hrefOf(now) === hrefOf(shown) ? shown : now;
    });
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

/** Back to the signed-in account's keys (on sign-out), without an entry in the history. */
export function resetRoute(): void {
  history.replaceState(null, '', `${location.pathname}${location.search}`);
  dispatchEvent(new HashChangeEvent('hashchange'));
}

/**
 * A page's heading: names the tab, and after a change of view takes the focus, so a screen
 * reader starts reading the new page there and Tab continues from it.
 */
export function usePageHeading(title: string) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Keygate`;
  }, [title]);
  useEffect(() => {
    if (!headingFocusPending) return;
    headingFocusPending = false;
    ref.current?.focus();
  }, []);
  return ref;
}
