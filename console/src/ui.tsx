// Small shared pieces of the console's pages. Text is always passed as children (text nodes).

import type { ComponentChildren } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import { ApiError } from './api';

export function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.status ? `${error.code} (HTTP ${error.status}): ${error.message}` : error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

export function ErrorBox({ error, title }: { error: unknown; title?: string }) {
  if (error === undefined || error === null) return null;
  return (
    <div class="alert alert-error" role="alert">
      {title ? <strong>{title}: </strong> : null}
      {errorText(error)}
    </div>
  );
}

export function Loading({ what }: { what?: string }) {
  return <div class="muted loading">Loading{what ? ` ${what}` : ''}…</div>;
}

export function PageHeader({ title, crumbs, children }: { title: ComponentChildren; crumbs?: Array<{ label: string; href: string }>; children?: ComponentChildren }) {
  return (
    <div class="page-header">
      <div>
        {crumbs && crumbs.length > 0 ? (
          <div class="crumbs">
            {crumbs.map((c) => (
              <span key={c.href}>
                <a href={c.href}>{c.label}</a>
                <span class="sep">/</span>
              </span>
            ))}
          </div>
        ) : null}
        <h1>{title}</h1>
      </div>
      <div class="page-actions">{children}</div>
    </div>
  );
}

export function Stat({ label, value, sub, testId }: { label: string; value: ComponentChildren; sub?: ComponentChildren; testId?: string }) {
  return (
    <div class="stat" data-testid={testId}>
      <div class="stat-label">{label}</div>
      <div class="stat-value">{value}</div>
      {sub !== undefined ? <div class="stat-sub">{sub}</div> : null}
    </div>
  );
}

export function Tabs({ tabs, active }: { tabs: Array<{ id: string; label: ComponentChildren; href: string }>; active: string }) {
  return (
    <nav class="tabs" role="tablist">
      {tabs.map((t) => (
        <a key={t.id} href={t.href} role="tab" aria-selected={t.id === active} class={t.id === active ? 'tab active' : 'tab'}>
          {t.label}
        </a>
      ))}
    </nav>
  );
}

const STATE_CLASS: Record<string, string> = {
  Stable: 'ok',
  Empty: 'muted',
  Dead: 'bad',
  PreparingRebalance: 'warn',
  CompletingRebalance: 'warn',
};

export function StateBadge({ state }: { state: string }) {
  return <span class={`badge badge-${STATE_CLASS[state] ?? 'muted'}`}>{state}</span>;
}

export function Badge({ kind, children, title }: { kind: 'ok' | 'warn' | 'bad' | 'muted' | 'info'; children: ComponentChildren; title?: string }) {
  return (
    <span class={`badge badge-${kind}`} title={title}>
      {children}
    </span>
  );
}

export function SearchBox({ value, onInput, placeholder }: { value: string; onInput: (v: string) => void; placeholder: string }) {
  return <input type="search" class="search" placeholder={placeholder} value={value} onInput={(e) => onInput(e.currentTarget.value)} aria-label={placeholder} />;
}

// one collator for every sort (localeCompare with options builds one per call)
const collator = new Intl.Collator(undefined, { numeric: true });

export interface SortState<K extends string> {
  key: K;
  desc: boolean;
}

/** Rows sorted by a column the user picks; `th(key, label, numeric?)` draws a clickable header. */
export function useSorted<T, K extends string>(rows: readonly T[], initial: SortState<K>, value: (row: T, key: K) => string | number) {
  const [sort, setSort] = useState<SortState<K>>(initial);
  const sorted = useMemo(() => {
    const out = [...rows];
    out.sort((a, b) => {
      const va = value(a, sort.key);
      const vb = value(b, sort.key);
      const c = typeof va === 'number' && typeof vb === 'number' ? va - vb : collator.compare(String(va), String(vb));
      return sort.desc ? -c : c;
    });
    return out;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [rows, sort.key, sort.desc]);
  const th = (k: K, children: ComponentChildren, num?: boolean) => {
    const active = sort.key === k;
    return (
      <th class={`sortable${num ? ' num' : ''}${active ? ' sorted' : ''}`} onClick={() => setSort({ key: k, desc: active ? !sort.desc : num === true })} aria-sort={active ? (sort.desc ? 'descending' : 'ascending') : 'none'}>
        {children}
        <span class="sort-mark">{active ? (sort.desc ? ' ▼' : ' ▲') : ''}</span>
      </th>
    );
  };
  return { sorted, th };
}

/** A horizontal bar for a share of a maximum (lag, size). */
export function Bar({ value, max, kind = 'info' }: { value: number; max: number; kind?: 'info' | 'warn' | 'bad' }) {
  const pct = max > 0 ? Math.max(0, Math.min(100, (value / max) * 100)) : 0;
  return (
    <div class={`bar bar-${kind}`} aria-hidden="true">
      <div class="bar-fill" style={{ width: `${pct}%` }} />
    </div>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <div class="empty">{children}</div>;
}

export function Updated({ at, loading, onReload }: { at: number | undefined; loading: boolean; onReload: () => void }) {
  return (
    <span class="updated muted">
      {loading ? 'refreshing…' : at ? `updated ${new Date(at).toLocaleTimeString()}` : ''}
      <button type="button" class="btn btn-small" onClick={onReload} title="Reload">
        ↻
      </button>
    </span>
  );
}
