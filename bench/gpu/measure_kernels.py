# Measures bf16 kernel times on an NVIDIA GPU for a model's shapes, the way the H100
# calibration set was measured: CUDA-graph replay, operands cycled over >= 256 MiB so weights
# and KV come from HBM, median of 25 repetitions. Prints CSV: op,model,T,B,ctx,flops,bytes,ms.
# Used to check the cost model on shapes it was not fitted on (Qwen3-32B by default):
#   python3 bench/gpu/measure_kernels.py --model Qwen3-32B > bench/data/h100-qwen3-32b.csv
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


def timed(make_call, bytes_per_call, reps=25, min_span=256 * MIB):
    copies = max(1, -(-min_span // max(bytes_per_call, 1)))
    copies = min(copies, 64)
    calls = [make_call() for _ in range(copies)]
    n = max(copies, 8)
    for c in calls:
        c()
    torch.cuda.synchronize()
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
    args = ap.parse_args()
    h, n_q, n_kv, d, inter, vocab = MODELS[args.model]
    torch.manual_seed(0)
    print("op,model,T,B,ctx,flops,bytes,ms")
    rows = []
    for T in (1, 8, 32, 64, 128, 256, 512, 1024, 2048, 4096):
        for op, n_in, n_out in (("gemm_qkv", h, (n_q + 2 * n_kv) * d), ("gemm_o", n_q * d, h),
                                ("gemm_gate_up", h, 2 * inter), ("gemm_down", inter, h), ("gemm_lm_head", h, vocab)):
            make, fl, by = gemm(T, n_in, n_out)
            rows.append((op, T, 0, 0, fl, by, timed(make, by)))
    for B in (1, 8, 32, 128):
        for ctx in (128, 512, 2048, 8192):
            if B * ctx * n_kv * d * 4 > 8 << 30:
                continue
            make, fl, by = attn_decode(B, ctx, n_q, n_kv, d)
            rows.append(("attn_decode", B, B, ctx, fl, by, timed(make, by)))
    for s in (128, 512, 2048, 8192):
        make, fl, by = attn_prefill(s, n_q, n_kv, d)
        rows.append(("attn_prefill", s, 1, s, fl, by, timed(make, by)))
    for op, T, B, ctx, fl, by, ms in rows:
        print(f"{op},{args.model},{T},{B},{ctx},{fl},{by},{ms:.6g}")
        sys.stdout.flush()
    print(f"# {torch.cuda.get_device_name(0)}, torch {torch.__version__}", file=sys.stderr)


if __name__ == "__main__":
    main()
