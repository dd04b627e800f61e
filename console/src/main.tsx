import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { signOut, useAuth } from './auth.js';
import { DeadLettersPage } from './pages/dead-letters.js';
import { HierarchyPage } from './pages/hierarchy.js';
import { WorkflowPage } from './pages/workflow.js';
import { WorkflowsPage } from './pages/workflows.js';
import { SignInPanel } from './sign-in.js';
import './styles.css';

type Route = { page: 'workflows'; status: string | null } | { page: 'workflow'; id: string } | { page: 'agents' } | { page: 'dead-letters' };

/** Hash routes: #/workflows[?status=…], #/workflows/<id>, #/agents, #/dead-letters. */
function parse(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'workflows' && parts[1]) return { page: 'workflow', id: parts[1] };
  if (parts[0] === 'agents') return { page: 'agents' };
  if (parts[0] === 'dead-letters') return { page: 'dead-letters' };
  return { page: 'workflows', status: new URLSearchParams(query).get('status') };
}

function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parse(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

const nav = [
  { href: '#/workflows', text: 'Workflows', pages: ['workflows', 'workflow'] },
  { href: '#/agents', text: 'Agents', pages: ['agents'] },
  { href: '#/dead-letters', text: 'Dead letters', pages: ['dead-letters'] },
];

function App() {
  const route = useRoute();
  const auth = useAuth();
  const leave = (event: Event) => {
    event.preventDefault();
    signOut();
  };
  useEffect(() => window.scrollTo(0, 0), [route.page]);
  return (
    <>
      <header class="topbar">
        <a class="brand" href="#/workflows">
          <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
            <circle cx="5" cy="12" r="3" />
            <circle cx="19" cy="5" r="3" />
            <circle cx="19" cy="19" r="3" />
            <path d="M8 11 16 6M8 13l8 5" />
          </svg>
          <span>AMAS</span>
          <small>orchestration console</small>
        </a>
        <nav>
          {nav.map((item) => (
            <a key={item.href} href={item.href} class={item.pages.includes(route.page) ? 'active' : ''} data-testid={`nav-${item.pages[0]}`}>
              {item.text}
            </a>
          ))}
        </nav>
        <a class="topbar-link" href="/metrics" target="_blank" rel="noreferrer">
          metrics
        </a>
        {auth.token !== null && (
          <a class="topbar-link" href="#" data-testid="sign-out" onClick={leave}>
            sign out
          </a>
        )}
      </header>
      {auth.needed ? (
        <main>
          <SignInPanel refused={auth.refused} />
        </main>
      ) : (
        // Mounted afresh after signing in: the pages load again, and their streams open with the credential.
        <main>
          {route.page === 'workflows' && <WorkflowsPage status={route.status} />}
          {route.page === 'workflow' && <WorkflowPage key={route.id} id={route.id} />}
          {route.page === 'agents' && <HierarchyPage />}
          {route.page === 'dead-letters' && <DeadLettersPage />}
        </main>
      )}
    </>
  );
}

render(<App />, document.getElementById('app')!);
