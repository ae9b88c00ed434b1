import { describe, expect, it } from 'vitest';
import { redactUrl } from './redact-url.js';

describe('redactUrl', () => {
  it('hides the password and drops the query, keeping what tells the URL apart', () => {
    expect(redactUrl('postgres://app:s3cret@db:5432/streamhouse?sslmode=require&password=x')).toBe('postgres://app:***@db:5432/streamhouse');
    expect(redactUrl('postgres://app:p@ss@word@db/sh')).toBe('postgres://app:***@db/sh');
    expect(redactUrl('postgres://app@db/sh')).toBe('postgres://app@db/sh');
    expect(redactUrl('s3://bucket/prefix')).toBe('s3://bucket/prefix');
    expect(redactUrl('sqlite:///var/lib/sh/metadata.db')).toBe('sqlite:///var/lib/sh/metadata.db');
    expect(redactUrl('sqlite::memory:')).toBe('sqlite::memory:');
    expect(redactUrl('user:pw@host')).toBe('<unparseable URL>');
  });
});
