// A minimal Prometheus text-exposition registry (counters, gauges, histograms with labels),
// formatted as Python's prometheus_client does so scrapers see what vLLM would serve.

export type Labels = Record<string, string>;
type Kind = 'counter' | 'gauge' | 'histogram';

/** prometheus_client's floatToGoString: Python repr, Go-style exponent past 6 integer digits. */
export function goFloat(d: number): string {
  if (d === Infinity) return '+Inf';
  if (d === -Infinity) return '-Inf';
  if (Number.isNaN(d)) return 'NaN';
  const s = pyRepr(d);
  const dot = s.indexOf('.');
  if (d > 0 && dot > 6) {
    const mantissa = `${s[0]}.${s.slice(1, dot)}${s.slice(dot + 1)}`.replace(/[0.]+$/, '');
    return `${mantissa}e+0${dot - 1}`;
  }
  return s;
}

/** Python's repr(float) for the values metrics take (shortest round-trip digits). */
export function pyRepr(d: number): string {
  if (Number.isInteger(d) && Math.abs(d) < 1e16) return `${d}.0`;
  const a = Math.abs(d);
  if (a !== 0 && (a < 1e-4 || a >= 1e16)) {
    const [m, e] = d.toExponential().split('e');
    const exp = Number(e);
    return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return String(d);
}

function labelKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escapeLabel(labels[k]!)}"`)
    .join(',');
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

interface Series {
  labels: Labels;
  value: number;
  buckets?: Float64Array;
  sum?: number;
  count?: number;
}

export interface Child {
  inc(by?: number): void;
  observe(v: number, count?: number): void;
}

export class Metric {
  readonly series = new Map<string, Series>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly kind: Kind,
    readonly bucketBounds: readonly number[] = [],
  ) {}

  /** A handle on one series, for hot paths: no label-key work per observation. */
  child(labels: Labels): Child {
    const s = this.get(labels);
    const b = this.bucketBounds;
    return {
      inc: (by = 1) => void (s.value += by),
      observe: (v: number, count = 1) => {
        for (let i = 0; i < b.length; i++) if (v <= b[i]!) s.buckets![i]! += count;
        s.sum! += v * count;
        s.count! += count;
      },
    };
  }

  private get(labels: Labels): Series {
    const key = labelKey(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels, value: 0 };
      if (this.kind === 'histogram') {
        s.buckets = new Float64Array(this.bucketBounds.length);
        s.sum = 0;
        s.count = 0;
      }
      this.series.set(key, s);
    }
    return s;
  }
  inc(labels: Labels = {}, by = 1): void {
    this.get(labels).value += by;
  }
  set(labels: Labels, value: number): void {
    this.get(labels).value = value;
  }
  /** Declares a series so it shows with zero before the first event, as prometheus_client does. */
  touch(labels: Labels): void {
    this.get(labels);
  }
  render(fmt: (v: number) => string, withHelp = true): string {
    const out: string[] = [];
    // prometheus_client appends _total to a counter's name in HELP/TYPE and samples alike.
    const exposed = this.kind === 'counter' && !this.name.endsWith('_total') ? `${this.name}_total` : this.name;
    if (withHelp) out.push(`# HELP ${exposed} ${this.help}`, `# TYPE ${exposed} ${this.kind}`);
    for (const s of this.series.values()) {
      if (this.kind !== 'histogram') {
        out.push(`${exposed}${braces(s.labels)} ${fmt(s.value)}`);
        continue;
      }
      this.bucketBounds.forEach((le, i) => out.push(`${this.name}_bucket${braces({ ...s.labels, le: goFloat(le) })} ${fmt(s.buckets![i]!)}`));
      out.push(`${this.name}_bucket${braces({ ...s.labels, le: '+Inf' })} ${fmt(s.count!)}`);
      out.push(`${this.name}_count${braces(s.labels)} ${fmt(s.count!)}`);
      out.push(`${this.name}_sum${braces(s.labels)} ${fmt(s.sum!)}`);
    }
    return out.join('\n');
  }
}

function braces(labels: Labels): string {
  const k = labelKey(labels);
  return k ? `{${k}}` : '';
}

export class Registry {
  readonly metrics: Metric[] = [];
  counter(name: string, help: string): Metric {
    return this.add(new Metric(name, help, 'counter'));
  }
  gauge(name: string, help: string): Metric {
    return this.add(new Metric(name, help, 'gauge'));
  }
  histogram(name: string, help: string, buckets: readonly number[]): Metric {
    return this.add(new Metric(name, help, 'histogram', buckets));
  }
  private add(m: Metric): Metric {
    this.metrics.push(m);
    return m;
  }
  /** Exposition text; metrics with no series are still announced (HELP/TYPE), as prometheus_client does. */
  render(fmt: (v: number) => string = goFloat): string {
    return this.metrics.map((m) => m.render(fmt)).join('\n') + '\n';
  }
}
