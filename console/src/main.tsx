// The StreamHouse web console: a client of the broker's REST API (api/v1), hash-routed.
// Message data is rendered as text nodes only (no innerHTML anywhere).

import '../styles.css';
import { render } from 'preact';
import { api } from './api';
import { AgentsPage } from './agents';
import { GroupPage, GroupsPage } from './groups';
import { href, useApi, useRoute } from './hooks';
import { OverviewPage } from './overview';
import { StoragePage } from './storage';
import { TopicPage } from './topic';
import { TopicsPage } from './topics';
import { Empty } from './ui';

const NAV = [
  { id: '', label: 'Overview', icon: '◎' },
  { id: 'topics', label: 'Topics', icon: '≡' },
  { id: 'groups', label: 'Consumer groups', icon: '⇉' },
  { id: 'agents', label: 'Agents', icon: '◇' },
  { id: 'storage', label: 'Object storage', icon: '▤' },
];

function Page({ route }: { route: string[] }) {
  const [section, a, b] = route;
  switch (section) {
    case undefined:
    case '':
      return <OverviewPage />;
    case 'topics':
      return a === undefined ? <TopicsPage /> : <TopicPage key={a} name={a} tab={b} />;
    case 'groups':
      return a === undefined ? <GroupsPage /> : <GroupPage key={a} id={a} />;
    case 'agents':
      return <AgentsPage />;
    case 'storage':
      return <StoragePage />;
    default:
      return (
        <Empty>
          No page here. <a href={href()}>Go to the overview</a>.
        </Empty>
      );
  }
}

function App() {
  const route = useRoute();
  const cluster = useApi((s) => api.cluster(s), [], 15000);
  const section = route[0] ?? '';
  const ok = cluster.data !== undefined && cluster.error === undefined;
  const title = NAV.find((n) => n.id === section)?.label ?? 'StreamHouse';
  document.title = route[1] ? `${route[1]} · ${title} · StreamHouse` : `${title} · StreamHouse`;

  return (
    <div class="layout">
      <aside class="sidebar">
        <a class="brand" href={href()}>
          <span class="brand-mark">▦</span> StreamHouse
        </a>
        <nav>
          {NAV.map((n) => (
            <a key={n.id} href={n.id ? href(n.id) : href()} class={section === n.id ? 'nav-link active' : 'nav-link'}>
              <span class="nav-icon" aria-hidden="true">
                {n.icon}
              </span>
              {n.label}
            </a>
          ))}
        </nav>
        <div class="sidebar-foot">
          <div class={`conn ${ok ? 'conn-ok' : cluster.error ? 'conn-bad' : ''}`}>
            <span class="dot" /> {ok ? 'connected' : cluster.error ? 'broker unreachable' : 'connecting…'}
          </div>
          {cluster.data ? (
            <div class="muted small mono" title="cluster id">
              {cluster.data.cluster_id}
            </div>
          ) : null}
        </div>
      </aside>
      <main class="content">
        <Page route={route} />
      </main>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
