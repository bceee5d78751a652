# Measures bf16 kernel times on an NVIDIA GPU for a model's shapes, the way the H100
# calibration set was measured: CUDA-graph replay, operands cycled over >= 256 MiB so weights
# and KV come from HBM, median of 25 repetitions. Prints CSV: op,model,T,B,ctx,flops,bytes,ms.
# Used to check the cost model on shapes it was not fitted on (Qwen3-32B by default):
#   python3 bench/gpu/measure_kernels.py --model Qwen3-32B > bench/data/h100-qwen3-32b.csv
# --calibration measures the whole calibration set of shared/calibration/README.md for a GPU
# (Llama-3-8B shapes, T 1..8192, a Mixtral-8x7B expert FFN, every point also eager as `op_eager`,
# and the machine's ceilings), the input of `servelab sim calibrate --gpu NAME`:
#   python3 bench/gpu/measure_kernels.py --calibration > bench/data/h200-kernels.csv
import argparse
import statistics
import sys

import torch
import torch.nn.functional as F

MODELS = {
    # hidden, n_q, n_kv, head_dim, intermediate, vocab
    "Qwen3-32B": (5120, 64, 8, 128, 25600, 151936),
    "Llama-3-8B": (4096, 32, 8, 128, 14336, 128256),
}
MIB = 1 << 20
GIB = 1 << 30
MIXTRAL_EXPERT = (4096, 14336)  # hidden, expert intermediate


def timed(make_call, bytes_per_call, reps=25, min_span=256 * MIB, eager=False):
    """Median ms per call; the graph replay of n calls cycling over operand copies, or (eager) the same calls from Python."""
    copies = max(1, -(-min_span // max(bytes_per_call, 1)))
    copies = min(copies, 64)
    calls = [make_call() for _ in range(copies)]
    n = max(copies, 8)
    for c in calls:
        c()
    torch.cuda.synchronize()
    if eager:
        return eager_timed(calls, n, reps)
    g = torch.cuda.CUDAGraph()
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for i in range(n):
            calls[i % copies]()
    torch.cuda.current_stream().wait_stream(s)
    torch.cuda.synchronize()
    with torch.cuda.graph(g):
        for i in range(n):
            calls[i % copies]()
    for _ in range(5):
        g.replay()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        a = torch.cuda.Event(enable_timing=True)
        b = torch.cuda.Event(enable_timing=True)
        a.record()
        g.replay()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b) / n)
    del g, calls
    torch.cuda.empty_cache()
    return statistics.median(times)


def eager_timed(calls, n, reps):
    copies = len(calls)
    for _ in range(5):
        for i in range(n):
            calls[i % copies]()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        a = torch.cuda.Event(enable_timing=True)
        b = torch.cuda.Event(enable_timing=True)
        a.record()
        for i in range(n):
            calls[i % copies]()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b) / n)
    del calls
    torch.cuda.empty_cache()
    return statistics.median(times)


def expert_ffn(T, h, inter):
    """One Mixtral expert, unfused: gate_up GEMM, SiLU·mul (two kernels), down GEMM."""
    def make():
        x = torch.randn(T, h, device="cuda", dtype=torch.bfloat16)
        w1 = torch.randn(2 * inter, h, device="cuda", dtype=torch.bfloat16)
        w2 = torch.randn(h, inter, device="cuda", dtype=torch.bfloat16)

        def call():
            g, u = F.linear(x, w1).chunk(2, dim=-1)
            return F.linear(F.silu(g) * u, w2)
        return call
    gb = lambda t, i, o: 2 * (t * i + i * o + t * o)
    return make, 6 * T * h * inter, gb(T, h, 2 * inter) + 2 * (T * 2 * inter + T * inter) + gb(T, inter, h)


def ceilings():
    """Rows for the machine: 4 GiB device copy (bytes read + written), read-only row sums, 8192^3 matmul."""
    rows = []
    src = torch.randn(GIB * 4 // 2, device="cuda", dtype=torch.bfloat16)
    dst = torch.empty_like(src)
    ms = event_median(lambda: dst.copy_(src), 20)
    rows.append(("hbm_copy", "machine", 0, 0, 0, 0, 2 * src.numel() * 2, ms))
    del dst
    m = src.view(524288, -1)
    ms = event_median(lambda: m.sum(dim=1), 20)
    rows.append(("hbm_read", "machine", 0, 0, 0, 0, src.numel() * 2 + 524288 * 2, ms))
    del m, src
    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    fl, by = 2 * 8192 ** 3, 3 * 8192 * 8192 * 2
    ms = event_median(lambda: torch.mm(a, b), 50, warmup=20)
    rows.append(("matmul_8192", "machine", 8192, 0, 0, fl, by, ms))
    # About 4 s of back-to-back products; the median of the second half (power cap reached).
    n = max(100, int(4000 / max(ms, 1e-3)))
    evs = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(n)]
    for s, e in evs:
        s.record()
        torch.mm(a, b)
        e.record()
    torch.cuda.synchronize()
    t = [s.elapsed_time(e) for s, e in evs[n // 2:]]
    rows.append(("matmul_8192_sustained", "machine", 8192, 0, 0, fl, by, statistics.median(t)))
    del a, b
    torch.cuda.empty_cache()
    return rows


def event_median(call, reps, warmup=3):
    for _ in range(warmup):
        call()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        a = torch.cuda.Event(enable_timing=True)
        b = torch.cuda.Event(enable_timing=True)
        a.record()
        call()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b))
    return statistics.median(times)


def gemm(T, n_in, n_out):
    def make():
        x = torch.randn(T, n_in, device="cuda", dtype=torch.bfloat16)
        w = torch.randn(n_out, n_in, device="cuda", dtype=torch.bfloat16)
        return lambda: F.linear(x, w)
    return make, 2 * T * n_in * n_out, 2 * (T * n_in + n_in * n_out + T * n_out)


def attn_decode(B, ctx, n_q, n_kv, d):
    def make():
        q = torch.randn(B, n_q, 1, d, device="cuda", dtype=torch.bfloat16)
        k = torch.randn(B, n_kv, ctx, d, device="cuda", dtype=torch.bfloat16)
        v = torch.randn(B, n_kv, ctx, d, device="cuda", dtype=torch.bfloat16)
        return lambda: F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
    return make, 4 * B * n_q * ctx * d, 2 * (2 * B * n_q * d + 2 * B * n_kv * ctx * d)


def attn_prefill(s, n_q, n_kv, d):
    def make():
        q = torch.randn(1, n_q, s, d, device="cuda", dtype=torch.bfloat16)
        k = torch.randn(1, n_kv, s, d, device="cuda", dtype=torch.bfloat16)
        v = torch.randn(1, n_kv, s, d, device="cuda", dtype=torch.bfloat16)
        return lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
    return make, 4 * n_q * d * s * (s + 1) // 2, 2 * (2 * n_q * s * d + 2 * n_kv * s * d)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="Qwen3-32B", choices=sorted(MODELS))
    ap.add_argument("--calibration", action="store_true",
                    help="the calibration set: Llama-3-8B, T 1..8192, Mixtral expert FFN, eager rows, ceilings")
    args = ap.parse_args()
    model = "Llama-3-8B" if args.calibration else args.model
    h, n_q, n_kv, d, inter, vocab = MODELS[model]
    torch.manual_seed(0)
    print("op,model,T,B,ctx,flops,bytes,ms")
    modes = (False, True) if args.calibration else (False,)
    tokens = tuple(1 << i for i in range(14)) if args.calibration else (1, 8, 32, 64, 128, 256, 512, 1024, 2048, 4096)
    points = []
    for T in tokens:
        for op, n_in, n_out in (("gemm_qkv", h, (n_q + 2 * n_kv) * d), ("gemm_o", n_q * d, h),
                                ("gemm_gate_up", h, 2 * inter), ("gemm_down", inter, h), ("gemm_lm_head", h, vocab)):
            points.append((op, model, T, 0, 0, gemm(T, n_in, n_out)))
    for B in (1, 8, 32, 128):
        for ctx in (128, 512, 2048, 8192):
            if B * ctx * n_kv * d * 4 > 8 << 30:
                continue
            points.append(("attn_decode", model, B, B, ctx, attn_decode(B, ctx, n_q, n_kv, d)))
    for s in (128, 512, 2048, 8192):
        points.append(("attn_prefill", model, s, 1, s, attn_prefill(s, n_q, n_kv, d)))
    if args.calibration:
        for T in (1, 4, 16, 64, 256, 1024, 4096):
            points.append(("moe_expert_ffn", "Mixtral-8x7B", T, 0, 0, expert_ffn(T, *MIXTRAL_EXPERT)))
    rows = []
    for op, name, T, B, ctx, (make, fl, by) in points:
        for eager in modes:
            rows.append((op + ("_eager" if eager else ""), name, T, B, ctx, fl, by, timed(make, by, eager=eager)))
    if args.calibration:
        rows += ceilings()
    for op, name, T, B, ctx, fl, by, ms in rows:
        print(f"{op},{name},{T},{B},{ctx},{fl},{by},{ms:.6g}")
        sys.stdout.flush()
    print(f"# {torch.cuda.get_device_name(0)}, torch {torch.__version__}", file=sys.stderr)


if __name__ == "__main__":
    main()
