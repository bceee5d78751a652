// MoE gate logs: one JSONL line per engine step and MoE layer, written continuously to
// --gate-log-dir as gate_logs_<replica>.jsonl, and recorded on demand over HTTP (SGLang's
// start/stop/dump names). The MoE analysis reads gate_logs_* files in exactly this format:
//   {"step":N,"layer":L,"num_tokens":T,"expert_counts":[…],"rank":R,"t":seconds}
// `rank` is the replica (engine) index; `t` is the step's end in simulated seconds.
import fs from 'node:fs';
import path from 'node:path';

export function gateLine(replica: number, step: number, layer: number, stepTokens: number, counts: readonly number[], t: number): string {
  return `{"step":${step},"layer":${layer},"num_tokens":${stepTokens},"expert_counts":[${counts.join(',')}],"rank":${replica},"t":${round(t)}}\n`;
}

const round = (t: number) => Math.round(t * 1e9) / 1e9;

/** Lines kept in memory while recording over HTTP (a circular cap keeps memory bounded). */
export const RECORD_CAP = 2_000_000;

export class GateLogs {
  private streams: fs.WriteStream[] = [];
  private recording = false;
  private recorded: string[][] = [];
  private dumps = 0;

  constructor(
    readonly replicas: number,
    readonly dir: string | null,
  ) {
    this.recorded = Array.from({ length: replicas }, () => []);
    if (dir) {
      fs.mkdirSync(dir, { recursive: true });
      for (let r = 0; r < replicas; r++) this.streams.push(fs.createWriteStream(path.join(dir, `gate_logs_${r}.jsonl`), { flags: 'w' }));
    }
  }

  get active(): boolean {
    return this.recording || this.streams.length > 0;
  }

  onGates(replica: number, step: number, t: number, counts: number[][], stepTokens: number): void {
    if (!this.active) return;
    let text = '';
    for (let l = 0; l < counts.length; l++) text += gateLine(replica, step, l, stepTokens, counts[l]!, t);
    this.streams[replica]?.write(text);
    if (this.recording) {
      const buf = this.recorded[replica]!;
      if (buf.length < RECORD_CAP) buf.push(text);
    }
  }

  /** POST /start_expert_distribution_record: resets the buffer, starts recording. */
  start(): void {
    this.recorded = Array.from({ length: this.replicas }, () => []);
    this.recording = true;
  }

  stop(): void {
    this.recording = false;
  }

  /**
   * POST /dump_expert_distribution_record: writes gate_logs_dump<k>_<replica>.jsonl into
   * `dir` (when one is known) and returns the lines as JSON records, then resets the buffer.
   */
  dump(dir: string | null): { files: string[]; num_records: number; records: unknown[] } {
    const files: string[] = [];
    const records: unknown[] = [];
    const k = this.dumps++;
    for (let r = 0; r < this.replicas; r++) {
      const text = this.recorded[r]!.join('');
      if (dir) {
        fs.mkdirSync(dir, { recursive: true });
        const f = path.join(dir, `gate_logs_dump${k}_${r}.jsonl`);
        fs.writeFileSync(f, text);
        files.push(f);
      }
      for (const line of text.split('\n')) if (line) records.push(JSON.parse(line));
    }
    this.recorded = Array.from({ length: this.replicas }, () => []);
    return { files, num_records: records.length, records };
  }

  async close(): Promise<void> {
    await Promise.all(this.streams.map((s) => new Promise<void>((resolve) => s.end(resolve))));
    this.streams = [];
  }
}
