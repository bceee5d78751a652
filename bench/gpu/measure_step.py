# Measures whole engine steps of randomly initialised, real-shaped models on one GPU, to check the
# cost model's sum of per-op prices against a real step (no weights are downloaded: bf16 weights
# and KV drawn from a normal distribution, never zeros). A decode step runs B sequences one token
# each over a KV cache of ctx tokens; a prefill step runs one prompt of s tokens; each step is the
# whole forward pass: embedding, per layer RMSNorm, QKV GEMM, RoPE, KV write, attention (SDPA),
# O GEMM, residual, RMSNorm, FFN (dense: gate_up GEMM, SiLU·mul, down GEMM; MoE: router GEMM,
# softmax·top-k, each hit expert's unfused FFN on its tokens, weighted index_add), final norm, LM head
# on the last token of each sequence and argmax. MoE routing is fixed before capture (token t goes to
# experts (tK+k) mod E: every expert equally loaded), so the step can be graph-captured.
# Each step is captured in a CUDA graph and replayed (warm-up, then --reps replays; median and
# p10/p90), and with --eager also issued from Python (launch-bound where kernels are short).
# A model that does not fit one GPU runs fewer layers (--layers NAME=N; Mixtral-8x7B runs 8 of its
# 32 by default): the `layers` column says how many, and the cost model is priced for that many.
# --launch adds the launch-cost rows: a bf16 add over 2^8..2^26 elements, graph replay and eager,
# 200 back-to-back calls per repetition (op launch_add / launch_add_eager, model machine, T = elements).
# Prints CSV in the calibration format plus spread and layers:
#   op,model,T,B,ctx,flops,bytes,ms,p10_ms,p90_ms,reps,layers
# op = step_decode|step_prefill (+ _eager); T = tokens in the step; B = sequences; ctx = cached
# tokens per sequence (prefill: s); flops = matrix FLOPs; bytes = weights read + KV read/written.
# --priced adds the same steps with only what the cost model prices per op (norms, RoPE, SiLU·mul and the
# router become identities; KV writes, residual adds and MoE gather/scatter stay): the sum-of-ops check.
#   python3 bench/gpu/measure_step.py --eager --launch --priced > bench/data/h200-steps.csv
# On a CPU (tiny shapes, eager only; what the tests run):
#   python3 bench/gpu/measure_step.py --tiny --reps 2
import argparse
import statistics
import sys

HEADER = "op,model,T,B,ctx,flops,bytes,ms,p10_ms,p90_ms,reps,layers"
MODELS = {
    # hidden, layers, n_q, n_kv, head_dim, intermediate, vocab, experts, top_k
    "Llama-3-8B": (4096, 32, 32, 8, 128, 14336, 128256, 0, 0),
    "Mixtral-8x7B": (4096, 32, 32, 8, 128, 14336, 32000, 8, 2),
}
TINY = {
    "tiny-dense": (64, 2, 4, 2, 16, 128, 256, 0, 0),
    "tiny-moe": (64, 2, 4, 2, 16, 96, 256, 4, 2),
}
DEFAULT_LAYERS = {"Mixtral-8x7B": 8}


def parse_layers(text, models):
    """'Mixtral-8x7B=8,Llama-3-8B=32' -> {name: layers}; defaults to DEFAULT_LAYERS then each model's own."""
    out = {name: DEFAULT_LAYERS.get(name, cfg[1]) for name, cfg in models.items()}
    for item in filter(None, (text or "").split(",")):
        name, _, n = item.partition("=")
        if name not in models:
            raise ValueError(f"--layers: unknown model {name!r}; expected one of {', '.join(models)}")
        if not n.isdigit() or not 1 <= int(n) <= models[name][1]:
            raise ValueError(f"--layers: {item!r}: layers must be 1..{models[name][1]}")
        out[name] = int(n)
    return out


def routing(T, E, K):
    """Balanced fixed routing: token t -> experts (tK+k) mod E. Returns {expert: [tokens]}."""
    per = {}
    for t in range(T):
        for k in range(K):
            per.setdefault((t * K + k) % E, []).append(t)
    return per


def step_counts(cfg, layers, T, R, ctx_sum, attn_work, kv_new):
    """(matrix FLOPs, bytes) of a step: weights read once, KV read for attention and written for new tokens."""
    h, _, nq, nkv, d, inter, vocab, E, K = cfg
    qkv, o = h * (nq + 2 * nkv) * d, nq * d * h
    flops = 2 * T * (qkv + o) * layers + 2 * R * h * vocab
    wbytes = 2 * (qkv + o) * layers + 2 * h * vocab
    if E:
        per = routing(T, E, K)
        flops += (6 * T * K * h * inter + 2 * T * h * E) * layers
        wbytes += (len(per) * 3 * h * inter + E * h) * 2 * layers
    else:
        flops += 6 * T * h * inter * layers
        wbytes += 3 * h * inter * 2 * layers
    flops += 4 * nq * d * attn_work * layers
    kv = 2 * 2 * nkv * d * (ctx_sum + kv_new) * layers
    return flops, wbytes + kv


def spread(times):
    s = sorted(times)
    q = lambda p: s[min(len(s) - 1, max(0, round(p * (len(s) - 1))))]
    return statistics.median(s), q(0.1), q(0.9)


def csv_row(op, model, T, B, ctx, flops, nbytes, times, layers):
    med, lo, hi = spread(times)
    return f"{op},{model},{T},{B},{ctx},{flops},{nbytes},{med:.6g},{lo:.6g},{hi:.6g},{len(times)},{layers}"


def main(argv=None):
    ap = argparse.ArgumentParser(description="Time whole decode and prefill steps of random real-shaped models.")
    ap.add_argument("--models", default="Llama-3-8B,Mixtral-8x7B")
    ap.add_argument("--layers", default="", help="NAME=N,... layers to run (default: all; Mixtral-8x7B 8)")
    ap.add_argument("--batches", default="1,8,32,128", help="decode batch sizes")
    ap.add_argument("--ctx", default="512,2048,8192", help="decode cached context lengths")
    ap.add_argument("--prefill", default="128,512,2048,8192", help="prefill prompt lengths")
    ap.add_argument("--kv-gib", type=float, default=40.0, help="skip decode points whose KV cache exceeds this")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--eager", action="store_true", help="also time each step issued eagerly")
    ap.add_argument("--launch", action="store_true", help="add the launch-cost rows (small adds, graph and eager)")
    ap.add_argument("--priced", action="store_true",
                    help="also time each step with only the ops the cost model prices (GEMMs, attention, experts; "
                         "norms, RoPE, SiLU·mul, router left out): op step_decode_priced / step_prefill_priced")
    ap.add_argument("--tiny", action="store_true", help="tiny shapes on the CPU (a check of the code, not a measurement)")
    args = ap.parse_args(argv)

    import torch
    import torch.nn.functional as F

    table = TINY if args.tiny else MODELS
    names = [n for n in args.models.split(",") if n] if not args.tiny else list(TINY)
    for n in names:
        if n not in table:
            ap.error(f"--models: {n!r} is not one of {', '.join(table)}")
    try:
        layers_of = parse_layers(args.layers, table)
    except ValueError as e:
        ap.error(str(e))
    ints = lambda s: [int(x) for x in s.split(",") if x]
    batches, ctxs, prompts = ints(args.batches), ints(args.ctx), ints(args.prefill)
    if args.tiny:
        batches, ctxs, prompts = [1, 3], [5, 17], [4, 9]
    cuda = torch.cuda.is_available() and not args.tiny
    dev = torch.device("cuda" if cuda else "cpu")
    dt = torch.bfloat16 if cuda else torch.float32
    gqa_sdpa = hasattr(F, "scaled_dot_product_attention") and cuda

    def attention(q, k, v, causal):
        if gqa_sdpa:
            return F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=True)
        rep = q.shape[1] // k.shape[1]
        k, v = k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1)
        s = q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5
        if causal:
            n = q.shape[2]
            s = s.masked_fill(torch.ones(n, n, dtype=torch.bool, device=q.device).triu(1), float("-inf"))
        return torch.softmax(s.float(), -1).to(q.dtype) @ v

    bare = [False]  # True while building a --priced step: elementwise ops become identities

    def rms(x, w):
        if bare[0]:
            return x
        x32 = x.float()
        return (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + 1e-5)).to(x.dtype) * w

    def rope(x, cos, sin):
        if bare[0]:
            return x
        a, b = x.chunk(2, -1)
        return x * cos + torch.cat((-b, a), -1) * sin

    def rand(*shape, std=0.02):
        return torch.randn(*shape, device=dev, dtype=dt) * std

    def sync():
        if cuda:
            torch.cuda.synchronize()

    def time_it(fn, reps, graph):
        """Per-step ms of `reps` runs: graph replays, or the Python calls (events, or a wall clock on CPU)."""
        import time
        for _ in range(3):
            fn()
        sync()
        times = []
        for _ in range(reps):
            if cuda:
                a = torch.cuda.Event(enable_timing=True)
                b = torch.cuda.Event(enable_timing=True)
                a.record()
                fn()
                b.record()
                b.synchronize()
                times.append(a.elapsed_time(b))
            else:
                t0 = time.perf_counter()
                fn()
                times.append((time.perf_counter() - t0) * 1e3)
        return times

    def capture(fn):
        """A CUDA graph of fn (warmed on a side stream) and its static output."""
        s = torch.cuda.Stream()
        s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            for _ in range(2):
                fn()
        torch.cuda.current_stream().wait_stream(s)
        sync()
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            out = fn()
        return g, out

    rows = []
    torch.manual_seed(0)
    for name in names:
        cfg = table[name]
        h, _, nq, nkv, d, inter, vocab, E, K = cfg
        L = layers_of[name]
        W = {
            "embed": rand(vocab, h),
            "norm": torch.ones(h, device=dev, dtype=dt),
            "lm_head": rand(vocab, h),
            "layers": [],
        }
        for _ in range(L):
            lw = {"ln1": torch.ones(h, device=dev, dtype=dt), "ln2": torch.ones(h, device=dev, dtype=dt),
                  "wqkv": rand((nq + 2 * nkv) * d, h), "wo": rand(h, nq * d)}
            if E:
                lw["router"] = rand(E, h)
                lw["w_gu"] = [rand(2 * inter, h) for _ in range(E)]
                lw["w_down"] = [rand(h, inter) for _ in range(E)]
            else:
                lw["w_gu"] = rand(2 * inter, h)
                lw["w_down"] = rand(h, inter)
            W["layers"].append(lw)
        inv = 1.0 / (500000.0 ** (torch.arange(0, d, 2, device=dev, dtype=torch.float32) / d))

        def rope_tables(pos):
            f = pos.float()[:, None] * inv[None, :]
            f = torch.cat((f, f), -1)
            return f.cos().to(dt)[:, None, :], f.sin().to(dt)[:, None, :]

        def ffn(lw, x, route):
            act = (lambda g, u: g) if bare[0] else (lambda g, u: F.silu(g) * u)
            if not E:
                g, u = F.linear(x, lw["w_gu"]).chunk(2, -1)
                return F.linear(act(g, u), lw["w_down"])
            if not bare[0]:
                logits = F.linear(x, lw["router"])
                torch.topk(torch.softmax(logits.float(), -1), K, -1)  # run as in a real step; routing is fixed
            out = torch.zeros_like(x)
            for e, (idx, wt) in route.items():
                xe = x.index_select(0, idx)
                g, u = F.linear(xe, lw["w_gu"][e]).chunk(2, -1)
                out.index_add_(0, idx, F.linear(act(g, u), lw["w_down"][e]) * wt)
            return out

        def make_route(T):
            return {e: (torch.tensor(toks, device=dev), torch.full((len(toks), 1), 1.0 / K, device=dev, dtype=dt))
                    for e, toks in routing(T, E, K).items()} if E else None

        def decode_step(B, ctx):
            kc = [rand(B, nkv, ctx + 1, d, std=1.0) for _ in range(L)]
            vc = [rand(B, nkv, ctx + 1, d, std=1.0) for _ in range(L)]
            ids = torch.randint(0, vocab, (B,), device=dev)
            cos, sin = rope_tables(torch.full((B,), ctx, device=dev))
            route = make_route(B)

            def step():
                x = W["embed"].index_select(0, ids)
                for i, lw in enumerate(W["layers"]):
                    q, k, v = F.linear(rms(x, lw["ln1"]), lw["wqkv"]).split((nq * d, nkv * d, nkv * d), -1)
                    q = rope(q.view(B, nq, d), cos, sin)
                    kc[i][:, :, ctx].copy_(rope(k.view(B, nkv, d), cos, sin))
                    vc[i][:, :, ctx].copy_(v.view(B, nkv, d))
                    o = attention(q.unsqueeze(2), kc[i], vc[i], False)
                    x = x + F.linear(o.reshape(B, nq * d), lw["wo"])
                    x = x + ffn(lw, rms(x, lw["ln2"]), route)
                return F.linear(rms(x, W["norm"]), W["lm_head"]).argmax(-1), x
            return step

        def prefill_step(s):
            kc = [torch.empty(1, nkv, s, d, device=dev, dtype=dt) for _ in range(L)]
            vc = [torch.empty(1, nkv, s, d, device=dev, dtype=dt) for _ in range(L)]
            ids = torch.randint(0, vocab, (s,), device=dev)
            cos, sin = rope_tables(torch.arange(s, device=dev))
            route = make_route(s)

            def step():
                x = W["embed"].index_select(0, ids)
                for i, lw in enumerate(W["layers"]):
                    q, k, v = F.linear(rms(x, lw["ln1"]), lw["wqkv"]).split((nq * d, nkv * d, nkv * d), -1)
                    q = rope(q.view(s, nq, d), cos, sin).transpose(0, 1).unsqueeze(0)
                    kc[i][0].copy_(rope(k.view(s, nkv, d), cos, sin).transpose(0, 1))
                    vc[i][0].copy_(v.view(s, nkv, d).transpose(0, 1))
                    o = attention(q, kc[i], vc[i], True)
                    x = x + F.linear(o[0].transpose(0, 1).reshape(s, nq * d), lw["wo"])
                    x = x + ffn(lw, rms(x, lw["ln2"]), route)
                return F.linear(rms(x[-1:], W["norm"]), W["lm_head"]).argmax(-1), x
            return step

        points = []
        for B in batches:
            for ctx in ctxs:
                kv = 2 * L * B * (ctx + 1) * nkv * d * 2
                if kv > args.kv_gib * (1 << 30):
                    print(f"# skip decode {name} B={B} ctx={ctx}: KV {kv / (1 << 30):.0f} GiB > --kv-gib {args.kv_gib}", file=sys.stderr)
                    continue
                fl, by = step_counts(cfg, L, B, B, B * ctx, B * (ctx + 1), B)
                points.append(("step_decode", B, B, ctx, fl, by, lambda B=B, ctx=ctx: decode_step(B, ctx)))
        for s in prompts:
            fl, by = step_counts(cfg, L, s, 1, 0, s * (s + 1) // 2, s)
            points.append(("step_prefill", s, 1, s, fl, by, lambda s=s: prefill_step(s)))
        for op, T, B, ctx, fl, by, make in points:
            step = make()
            with torch.no_grad():
                if cuda:
                    g, (tok_g, x_g) = capture(step)
                    g.replay()
                    sync()
                    _, x_e = step()
                    err = ((x_g.float() - x_e.float()).norm() / x_e.float().norm()).item()
                    if not (torch.isfinite(x_g).all() and err < 2e-2):
                        print(f"# WARNING {op} {name} T={T} ctx={ctx}: graph and eager outputs differ by {err:.3g}", file=sys.stderr)
                    rows.append(csv_row(op, name, T, B, ctx, fl, by, time_it(g.replay, args.reps, True), L))
                    print(rows[-1] + f"  # graph vs eager rel. err {err:.2g}", file=sys.stderr, flush=True)
                    del g, tok_g, x_g
                else:
                    tok, x = step()
                    assert torch.isfinite(x).all() and tok.numel() == (B if op == "step_decode" else 1)
                if args.eager or not cuda:
                    rows.append(csv_row(op + "_eager", name, T, B, ctx, fl, by, time_it(step, args.reps, False), L))
                    print(rows[-1], file=sys.stderr, flush=True)
            del step
            if args.priced:
                step = make()
                with torch.no_grad():
                    bare[0] = True
                    g, _ = capture(step) if cuda else (None, None)
                    times = time_it(g.replay if cuda else step, args.reps, cuda)
                    bare[0] = False
                    rows.append(csv_row(op + "_priced", name, T, B, ctx, fl, by, times, L))
                    print(rows[-1], file=sys.stderr, flush=True)
                del g, step
            if cuda:
                torch.cuda.empty_cache()
        del W
        if cuda:
            torch.cuda.empty_cache()

    if args.launch and cuda:
        n = 200
        for p in range(8, 27, 2):
            a, b = torch.randn(1 << p, device=dev, dtype=dt), torch.randn(1 << p, device=dev, dtype=dt)
            c = torch.empty_like(a)
            call = lambda: torch.add(a, b, out=c)

            def many():
                for _ in range(n):
                    call()
            g, _ = capture(lambda: many())
            by = 3 * (1 << p) * 2
            rows.append(csv_row("launch_add", "machine", 1 << p, 0, 0, 0, by, [t / n for t in time_it(g.replay, args.reps, True)], 0))
            rows.append(csv_row("launch_add_eager", "machine", 1 << p, 0, 0, 0, by, [t / n for t in time_it(many, args.reps, False)], 0))
            print(rows[-2] + "\n" + rows[-1], file=sys.stderr, flush=True)
            del g

    print(HEADER)
    for r in rows:
        print(r)
    sys.stdout.flush()
    where = torch.cuda.get_device_name(0) if cuda else "cpu"
    print(f"# {where}, torch {torch.__version__}", file=sys.stderr)


if __name__ == "__main__":
    main()
