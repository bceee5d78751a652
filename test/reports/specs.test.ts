// Every registered Vega-Lite spec compiles with zero warnings and draws marks from its sample
// rows in Node (vega View, no renderer): the loop test of reports/specs/index.ts.
import { describe, expect, it } from 'vitest';
import { specRegistry } from '../../reports/specs/index.ts';
import { withData } from '../../reports/html.ts';

/** A vega logger that records warnings instead of printing them. */
function captureLogger() {
  const warnings: string[] = [];
  let lvl = 2;
  const logger = {
    level(l?: number) {
      if (l === undefined) return lvl;
      lvl = l;
      return logger;
    },
    error(...args: unknown[]) {
      warnings.push(`error: ${args.join(' ')}`);
      return logger;
    },
    warn(...args: unknown[]) {
      warnings.push(args.join(' '));
      return logger;
    },
    info() {
      return logger;
    },
    debug() {
      return logger;
    },
  };
  return { logger, warnings };
}

interface SceneItem {
  marktype?: string;
  role?: string;
  items?: SceneItem[];
}

/** Counts drawn items of data-driven marks (role 'mark'; axes and legends have other roles). */
function countMarks(node: SceneItem | undefined): number {
  if (!node) return 0;
  const own = node.marktype !== undefined && node.role === 'mark' && node.marktype !== 'group' ? (node.items?.length ?? 0) : 0;
  return own + (node.items ?? []).reduce((n, c) => n + countMarks(c), 0);
}

describe('spec registry', () => {
  it('has unique names', () => {
    const names = specRegistry.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBeGreaterThan(0);
  });

  for (const entry of specRegistry) {
    it(`${entry.name} compiles without warnings and draws`, async () => {
      const vl = await import('vega-lite');
      const vega = await import('vega');
      const { logger, warnings } = captureLogger();
      const rows = entry.sample();
      expect(rows.length).toBeGreaterThan(0);
      const compiled = vl.compile(withData(entry.build(), rows), { logger });
      expect(warnings).toEqual([]);

      const vegaWarnings = captureLogger();
      const view = new vega.View(vega.parse(compiled.spec), { renderer: 'none', logger: vegaWarnings.logger as never });
      await view.runAsync();
      const marks = countMarks((view.scenegraph() as unknown as { root: SceneItem }).root);
      view.finalize();
      expect(vegaWarnings.warnings).toEqual([]);
      expect(marks).toBeGreaterThan(0);
      // The same spec with no rows draws nothing: the count above really measures the data.
      const empty = new vega.View(vega.parse(vl.compile(withData(entry.build(), [])).spec), { renderer: 'none' });
      await empty.runAsync();
      expect(countMarks((empty.scenegraph() as unknown as { root: SceneItem }).root)).toBe(0);
      empty.finalize();
    });
  }
});
