// The web console's entry: the shell (navigation, the live indicator), the hash routes to each
// view, the event stream that makes every view read again, and the token prompt shown whenever
// the API answers 401. Talks to sluice only through api.ts and live-events.ts.

import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { whenUnauthorized } from './api.js';
import { LiveTick } from './live-data.js';
import { followEvents, type StreamState } from './live-events.js';
import { forgetSessionToken, sessionToken } from './session-token.js';
import { FleetPage } from './views/fleet-page.js';
import { AuditPage, HistoryPage } from './views/history-page.js';
import { Overview } from './views/overview.js';
import { ServicePage } from './views/service-page.js';
import { TokenPrompt } from './views/token-prompt.js';

function currentRoute(): string[] {
  return location.hash.replace(/^#\/?/, '').split('/').filter((part) => part !== '').map(decodeURIComponent);
}

function View({ route }: { route: string[] }) {
  switch (route[0]) {
    case 'services':
      return route[1] === undefined ? <Overview /> : <ServicePage key={route[1]} name={route[1]} />;
    case 'fleet':
      return <FleetPage />;
    case 'history':
      return <HistoryPage />;
    case 'audit':
      return <AuditPage />;
    default:
      return <Overview />;
  }
}

const NAV: [string, string][] = [
  ['#/', 'Services'],
  ['#/fleet', 'Fleet'],
  ['#/history', 'History'],
  ['#/audit', 'Audit log'],
];

function App() {
  const [route, setRoute] = useState(currentRoute);
  const [tick, setTick] = useState(0);
  const [stream, setStream] = useState<StreamState>('connecting');
  const [askToken, setAskToken] = useState<string | undefined>(undefined);
  const [session, setSession] = useState(0);

  useEffect(() => {
    const follow = () => setRoute(currentRoute());
    addEventListener('hashchange', follow);
    return () => removeEventListener('hashchange', follow);
  }, []);
  useEffect(() => {
    whenUnauthorized((error) => {
      if (sessionToken() !== undefined) forgetSessionToken();
      setAskToken(error.message);
    });
  }, []);
  useEffect(
    () =>
      followEvents(
        () => setTick((n) => n + 1),
        (state, refusal) => {
          setStream(state);
          if (state === 'live') setTick((n) => n + 1);
          if (state === 'unauthorized') {
            if (sessionToken() !== undefined) forgetSessionToken();
            setAskToken(refusal ?? 'Reading sluice needs the admin token.');
          }
        },
      ),
    [session],
  );

  if (askToken !== undefined) {
    return (
      <main>
        <TokenPrompt
          reason={askToken}
          done={() => {
            setAskToken(undefined);
            setSession((n) => n + 1);
          }}
        />
      </main>
    );
  }
  const here = route[0] === undefined || route[0] === 'services' ? '#/' : `#/${route[0]}`;
  return (
    <LiveTick.Provider value={tick}>
      <header class="top">
        <a class="brand" href="#/">
          sluice
        </a>
        <nav aria-label="Sections">
          {NAV.map(([href, label]) => (
            <a key={href} href={href} aria-current={href === here ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <span class={`stream ${stream}`} data-testid="stream-state" role="status">
          {stream === 'live' ? 'live' : stream}
        </span>
      </header>
      <main key={`${session}`}>
        <View route={route} />
      </main>
    </LiveTick.Provider>
  );
}

const root = document.getElementById('app')!;
// The static page's loading line goes; preact owns the element from here.
root.replaceChildren();
render(<App />, root);
