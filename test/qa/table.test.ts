// Regression test for aligned tables: numbers right-aligned, a column holding only NULLs
// (e.g. `key`, `default` of `describe requests`) left-aligned like text.
import { describe, expect, it } from 'vitest';
import { formatTable } from '../../core/output.ts';

describe('formatTable alignment', () => {
  it('right-aligns numbers with NULLs, left-aligns all-NULL and text columns', () => {
    const t = formatTable(
      ['name', 'n', 'key', 'default'],
      [
        ['run', 12, null, null],
        ['request_id', null, null, null],
        ['x', 3, null, null],
      ],
    ).split('\n');
    // name: 10 wide; n: 4 wide (NULL), right-aligned; key and default: left-aligned.
    expect(t[0]).toBe('name           n  key   default');
    expect(t[2]).toBe('run           12  NULL  NULL');
    expect(t[3]).toBe('request_id  NULL  NULL  NULL');
    expect(t[4]).toBe('x              3  NULL  NULL');
  });
});
