// The committed sample run is exactly what data/make-sample.ts makes, and the latency stages
// agree with it: counts per endpoint and phase, and quantile/timeline outputs consistent with the summary.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { makeSample } from '../../data/make-sample.ts';
import { openCatalog, queryRows, sqlQuote } from '../../analysis/catalog.ts';
import { runStages } from '../../analysis/stages.ts';

const SAMPLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../data/samples/runs/latency/sample-001');
const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r) + '\n').join('');

describe('sample run', () => {
  it('is what the seeded generator makes (run npx tsx data/make-sample.ts after changing it)', () => {
    const { manifest, requests, chunks } = makeSample();
    expect(fs.readFileSync(path.join(SAMPLE, 'manifest.json'), 'utf8')).toBe(JSON.stringify(manifest, null, 2) + '\n');
    expect(fs.readFileSync(path.join(SAMPLE, 'raw/requests.jsonl'), 'utf8')).toBe(jsonl(requests));
    expect(fs.readFileSync(path.join(SAMPLE, 'raw/chunks.jsonl'), 'utf8')).toBe(jsonl(chunks));
    const bytes = ['manifest.json', 'raw/requests.jsonl', 'raw/chunks.jsonl'].reduce((n, f) => n + fs.statSync(path.join(SAMPLE, f)).size, 0);
    expect(bytes).toBeLessThan(1_000_000);
  });

  it('latency stages agree with the raw records', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-sample-'));
    const res = await runStages({ runDir: SAMPLE, outDir: out, stages: ['latency_summary', 'latency_quantiles', 'latency_timeline'], log: () => {} });
    const file = (s: string) => sqlQuote(res.find((r) => r.stage === s)!.output);
    const cat = await openCatalog({ runDirs: [SAMPLE] });
    try {
      const raw = await queryRows(cat.conn, `SELECT endpoint, phase, count(*) AS n, count(*) FILTER (WHERE status = 'ok') AS ok FROM requests GROUP BY ALL ORDER BY ALL`);
      const summary = await queryRows(cat.conn, `SELECT endpoint, phase, requests AS n, ok FROM read_parquet(${file('latency_summary')}) ORDER BY ALL`);
      expect(summary).toEqual(raw);
      expect(raw.length).toBe(4);
      // The CDF's q=0.5 point is the summary's p50; q=0 and q=1 are min and max.
      const mismatched = await queryRows(
        cat.conn,
        `SELECT s.endpoint, s.phase FROM read_parquet(${file('latency_summary')}) s JOIN read_parquet(${file('latency_quantiles')}) q
         ON q.endpoint = s.endpoint AND q.phase = s.phase AND q.metric = 'ttft' AND q.q = 0.5 WHERE abs(q.value_ms - s.ttft_ms_p50) > 1e-9`,
      );
      expect(mismatched).toEqual([]);
      const [t] = await queryRows(cat.conn, `SELECT sum(sent)::INTEGER AS sent, min(t_s) AS first FROM read_parquet(${file('latency_timeline')})`);
      expect(t).toEqual({ sent: 227, first: 0 });
    } finally {
      cat.close();
    }
  });
});
