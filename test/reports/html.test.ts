// The HTML renderer: one self-contained file, every string escaped, data embedded once with a
// CSV link per chart and table, print CSS, and no URL the page would load.
import { describe, expect, it } from 'vitest';
import { escapeHtml, renderReport, scriptJson } from '../../reports/html.ts';

const evil = '</script><script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';

function sample() {
  const spec = { mark: 'bar', encoding: { x: { field: 'endpoint', type: 'nominal' }, y: { field: 'value_ms', type: 'quantitative', title: 'TTFT (ms)' } } } as never;
  const rows = [{ endpoint: 'a', value_ms: 1 }, { endpoint: 'b', value_ms: 2 }];
  return renderReport({
    title: `Report ${evil}`,
    subtitle: 'a & b',
    facts: [['command', evil]],
    sections: [
      { title: 'Chart', text: `first paragraph ${evil}\n\nsecond`, chart: { spec, data: rows.map((r, i) => (i === 0 ? { ...r, endpoint: evil } : r)) } },
      { title: 'Table', table: { columns: [{ key: 'name' }, { key: 'v', digits: 1 }], rows: [{ name: evil, v: 1.25 }, { name: 'b', v: null }] } },
    ],
  });
}

describe('renderReport', () => {
  it('escapes every string: no raw markup from data, titles or facts reaches the page', () => {
    const html = sample();
    expect(html).not.toContain('<script>window.__pwned');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain(escapeHtml(`Report ${evil}`));
    // Inside the data script, '<' is escaped, so the element cannot be closed early.
    const data = html.slice(html.indexOf('id="report-data">'), html.indexOf('</script>', html.indexOf('id="report-data">')));
    expect(data).not.toContain('<');
    expect(data).toContain('\\u003c/script>');
  });

  it('is self-contained: the three libraries inline, no src/href to the network, one script per part', () => {
    const html = sample();
    expect(html.match(/<script/g)?.length).toBe(3);
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toMatch(/<link[^>]+href=/);
    expect(html).toContain('/* vega/build/vega.min.js */');
    expect(html).toContain('/* vega-embed/build/vega-embed.min.js */');
    expect(html).toContain("default-src 'none'");
  });

  it('offers the data of each chart and table as CSV, and has print CSS with the SVG renderer', () => {
    const html = sample();
    expect(html.match(/data-csv="chart-0"/g)?.length).toBe(1);
    expect(html.match(/data-csv="table-1"/g)?.length).toBe(1);
    expect(html).toContain('download="chart.csv"');
    expect(html).toContain('@media print');
    expect(html).toContain('"renderer":"svg"');
    expect(html).toContain('<td class="num">1.3</td>'); // digits: 1 (toLocaleString rounds half away from zero)
    expect(html).toContain('<td class="">–</td>');
  });

  it('scriptJson escapes < and line separators', () => {
    expect(scriptJson({ a: '</script>\u2028' })).toBe('{"a":"\\u003c/script>\\u2028"}');
  });
});
