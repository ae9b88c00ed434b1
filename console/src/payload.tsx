// Rendering of record keys, values and headers. Message data only ever becomes text nodes:
// JSON is re-indented token by token (numbers and strings exactly as they were written,
// no JSON.parse round trip that would round 64-bit ids), binary is a hex dump.

import type { ComponentChildren } from 'preact';
import type { Encoding } from './api';
import { decodeBase64, fmtInt, hexDump, hexPreview, oneLine, parseJsonDocument, utf8Length, visibleText } from './format';

type TokenKind = 'key' | 'string' | 'number' | 'literal' | 'punct' | 'space';

interface Token {
  kind: TokenKind;
  text: string;
}

const TOKEN = /"(?:\\.|[^"\\])*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null|[{}[\],:]|\s+/gy;

/** The tokens of a JSON text laid out with two-space indentation, or undefined if it is not JSON. */
export function prettyJsonTokens(text: string, maxChars = 200_000): Token[] | undefined {
  if (text.length > maxChars || parseJsonDocument(text) === undefined) return undefined;
  const raw: Token[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(text);
    if (!m || m.index !== at) return undefined;
    const t = m[0];
    if (/^\s/.test(t)) continue;
    const kind: TokenKind = t.startsWith('"') ? 'string' : /^[-\d]/.test(t) ? 'number' : /^[a-z]/.test(t) ? 'literal' : 'punct';
    raw.push({ kind, text: t });
  }
  const out: Token[] = [];
  let depth = 0;
  const newline = () => out.push({ kind: 'space', text: `\n${'  '.repeat(depth)}` });
  for (let i = 0; i < raw.length; i++) {
    const tok = raw[i]!;
    const next = raw[i + 1];
    if (tok.kind === 'string' && next?.text === ':') {
      out.push({ kind: 'key', text: tok.text });
      continue;
    }
    if (tok.text === '{' || tok.text === '[') {
      out.push(tok);
      if (next && (next.text === '}' || next.text === ']')) {
        out.push(next);
        i++;
        continue;
      }
      depth++;
      newline();
    } else if (tok.text === '}' || tok.text === ']') {
      depth--;
      newline();
      out.push(tok);
    } else if (tok.text === ',') {
      out.push(tok);
      newline();
    } else if (tok.text === ':') {
      out.push({ kind: 'punct', text: ': ' });
    } else {
      out.push(tok);
    }
  }
  return out;
}

export function JsonView({ tokens }: { tokens: Token[] }) {
  return (
    <pre class="payload json" data-kind="json">
      {tokens.map((t, i) => (t.kind === 'space' || t.kind === 'punct' ? t.text : <span key={i} class={`j-${t.kind}`}>{t.text}</span>))}
    </pre>
  );
}

/** A one-line preview for the table. */
export function PayloadPreview({ value, encoding }: { value: string | null; encoding: Encoding }) {
  if (value === null) return <span class="null">null</span>;
  if (encoding === 'base64') {
    const bytes = decodeBase64(value);
    return (
      <span class="binary-preview">
        <span class="badge badge-muted">binary {fmtInt(bytes.length)} B</span> <code>{hexPreview(bytes)}</code>
      </span>
    );
  }
  if (value === '') return <span class="null">empty</span>;
  return <span class="text-preview">{oneLine(value)}</span>;
}

/** The whole payload: pretty JSON, text, or a hex dump of binary. */
export function PayloadFull({ value, encoding, label }: { value: string | null; encoding: Encoding; label: string }) {
  let body: ComponentChildren;
  let meta: string;
  if (value === null) {
    body = <span class="null">null</span>;
    meta = 'null';
  } else if (encoding === 'base64') {
    const bytes = decodeBase64(value);
    meta = `binary, ${fmtInt(bytes.length)} bytes`;
    body = (
      <>
        <pre class="payload hex" data-kind="binary">
          {hexDump(bytes)}
        </pre>
        <details class="base64">
          <summary>base64</summary>
          <pre class="payload">{value}</pre>
        </details>
      </>
    );
  } else {
    const tokens = prettyJsonTokens(value);
    meta = `${tokens ? 'JSON' : 'text'}, ${fmtInt(utf8Length(value))} bytes`;
    body = tokens ? (
      <>
        <JsonView tokens={tokens} />
        <details class="raw">
          <summary>raw</summary>
          <pre class="payload">{value}</pre>
        </details>
      </>
    ) : (
      <pre class="payload text" data-kind="text">
        {visibleText(value)}
      </pre>
    );
  }
  return (
    <div class="payload-block">
      <div class="payload-label">
        {label} <span class="muted">{meta}</span>
      </div>
      {body}
    </div>
  );
}

/** A header value inline: text, or binary as hex. */
export function HeaderValue({ value, encoding }: { value: string | null; encoding: Encoding }) {
  if (value === null) return <span class="null">null</span>;
  if (encoding === 'base64') {
    const bytes = decodeBase64(value);
    return (
      <span>
        <span class="badge badge-muted">binary {fmtInt(bytes.length)} B</span> <code>{hexPreview(bytes, 64)}</code>
      </span>
    );
  }
  return <span class="header-value">{visibleText(value)}</span>;
}
