// Non-negative least squares (Lawson–Hanson active set): min ‖Ax − b‖ subject to x ≥ 0. The
// cost-model fit needs it because efficiencies, latencies and overheads cannot be negative.

/** Solves min ‖Ax − b‖₂ with x ≥ 0; A is rows × columns. */
export function nnls(A: readonly (readonly number[])[], b: readonly number[], maxIterations = 300): number[] {
  const m = A.length;
  const n = m ? A[0]!.length : 0;
  const x = new Array<number>(n).fill(0);
  const passive = new Array<boolean>(n).fill(false);
  const norm = Math.sqrt(b.reduce((s, v) => s + v * v, 0)) || 1;
  const tol = 1e-12 * norm * Math.max(m, n, 1);
  const gradient = (): number[] => {
    const r = b.map((bi, i) => bi - A[i]!.reduce((s, a, j) => s + a * x[j]!, 0));
    return Array.from({ length: n }, (_, j) => A.reduce((s, row, i) => s + row[j]! * r[i]!, 0));
  };
  let w = gradient();
  for (let outer = 0; outer < maxIterations; outer++) {
    let t = -1;
    let best = tol;
    for (let j = 0; j < n; j++) if (!passive[j] && w[j]! > best) { best = w[j]!; t = j; }
    if (t < 0) break;
    passive[t] = true;
    for (let inner = 0; inner < maxIterations; inner++) {
      const cols = passive.flatMap((p, j) => (p ? [j] : []));
      const sP = leastSquares(A, b, cols);
      const s = new Array<number>(n).fill(0);
      cols.forEach((j, k) => (s[j] = sP[k]!));
      if (cols.every((j) => s[j]! > 0)) {
        for (let j = 0; j < n; j++) x[j] = s[j]!;
        break;
      }
      let alpha = Infinity;
      for (const j of cols) if (s[j]! <= 0) alpha = Math.min(alpha, x[j]! / (x[j]! - s[j]!));
      for (let j = 0; j < n; j++) x[j] = x[j]! + alpha * (s[j]! - x[j]!);
      for (const j of cols) if (x[j]! <= 1e-15) { passive[j] = false; x[j] = 0; }
    }
    w = gradient();
  }
  return x;
}

/** Unconstrained least squares on a subset of columns (normal equations, partial pivoting). */
function leastSquares(A: readonly (readonly number[])[], b: readonly number[], cols: number[]): number[] {
  const k = cols.length;
  const M = Array.from({ length: k }, (_, r) => {
    const row = new Array<number>(k + 1).fill(0);
    for (let c = 0; c < k; c++) row[c] = A.reduce((s, a) => s + a[cols[r]!]! * a[cols[c]!]!, 0);
    row[k] = A.reduce((s, a, i) => s + a[cols[r]!]! * b[i]!, 0);
    return row;
  });
  for (let c = 0; c < k; c++) M[c]![c] = M[c]![c]! * (1 + 1e-12) + 1e-300;
  for (let c = 0; c < k; c++) {
    let piv = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[piv]![c]!)) piv = r;
    [M[c], M[piv]] = [M[piv]!, M[c]!];
    for (let r = 0; r < k; r++) {
      if (r === c || M[c]![c] === 0) continue;
      const f = M[r]![c]! / M[c]![c]!;
      for (let q = c; q <= k; q++) M[r]![q] = M[r]![q]! - f * M[c]![q]!;
    }
  }
  return M.map((row, r) => (row[r] === 0 ? 0 : row[k]! / row[r]!));
}
