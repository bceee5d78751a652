# Measures collective times through torch.distributed, one process per GPU on one host, for the
# cost model's communication terms (all-reduce under TP, all-to-all under EP): all_reduce,
# all_to_all_single with even splits (all2all) and with uneven splits (all2allv), bf16, message
# sizes from 4 KiB to 1 GiB doubling, each size captured in a CUDA graph and issued eagerly.
# Each point: warm-up, then --reps timed repetitions of n back-to-back calls (n shrinks with the
# size); the time of a repetition is the slowest rank's; ms is the median per call, p10/p90 the spread.
# NVLink multicast (NVLS) stays off: NCCL_NVLS_ENABLE=0 and TORCH_SYMM_MEM_DISABLE_MULTICAST=1 are
# forced before NCCL starts. Prints CSV in the calibration format plus spread columns:
#   op,model,T,B,ctx,flops,bytes,ms,p10_ms,p90_ms,reps
# op = allreduce|all2all|all2allv, `_eager` suffix when not graph-captured; model = backend
# (nccl|gloo); B = GPUs (world size); bytes = message bytes per rank (the all-reduce buffer, the
# all-to-all send buffer including the rank's own chunk); T, ctx, flops = 0.
#   NCCL_NVLS_ENABLE=0 torchrun --standalone --nproc_per_node 8 bench/gpu/measure_collectives.py > bench/data/h200-collectives-8.csv
# On a CPU (gloo, eager only, tiny sizes): the same check the tests run:
#   torchrun --standalone --nproc_per_node 2 bench/gpu/measure_collectives.py --backend gloo --dtype fp32 --max-bytes 65536 --reps 3
import argparse
import os
import statistics
import sys

OPS = ("allreduce", "all2all", "all2allv")
HEADER = "op,model,T,B,ctx,flops,bytes,ms,p10_ms,p90_ms,reps"
KIB = 1 << 10
GIB = 1 << 30
DTYPES = {"bf16": 2, "fp16": 2, "fp32": 4}  # bytes per element


def message_sizes(min_bytes=4 * KIB, max_bytes=GIB):
    """Powers of two from min_bytes to max_bytes inclusive."""
    if min_bytes <= 0 or max_bytes < min_bytes:
        raise ValueError(f"sizes: need 0 < min ({min_bytes}) <= max ({max_bytes})")
    out, s = [], min_bytes
    while s <= max_bytes:
        out.append(s)
        s *= 2
    return out


def elements(nbytes, world, elem=2):
    """Elements per rank for a message of nbytes, rounded down to a multiple of world (>= world)."""
    n = nbytes // elem
    return max(world, n - n % world)


def split_matrix(n, world):
    """Uneven all-to-all-v splits: row r is what rank r sends to each peer; every row sums to n.
    Peer j of rank r gets a share proportional to 1 + (r + j) % world (skewed like routed tokens)."""
    rows = []
    for r in range(world):
        w = [1 + (r + j) % world for j in range(world)]
        total = sum(w)
        row = [n * x // total for x in w]
        row[-1] += n - sum(row)
        rows.append(row)
    return rows


def calls_per_rep(nbytes):
    """Back-to-back calls in one timed repetition: many for small messages (launch-bound), few for large."""
    if nbytes <= 1 << 20:
        return 20
    if nbytes <= 32 << 20:
        return 8
    return 2


def spread(times):
    """(median, p10, p90) of per-call times."""
    s = sorted(times)
    q = lambda p: s[min(len(s) - 1, max(0, round(p * (len(s) - 1))))]
    return statistics.median(s), q(0.1), q(0.9)


def csv_row(op, backend, world, nbytes, times, graph):
    med, lo, hi = spread(times)
    name = op if graph else op + "_eager"
    return f"{name},{backend},0,{world},0,0,{nbytes},{med:.6g},{lo:.6g},{hi:.6g},{len(times)}"


def force_multicast_off(env=os.environ):
    """NVLink multicast can take a shared host's GPUs out of service: never let NCCL or PyTorch use it."""
    was = env.get("NCCL_NVLS_ENABLE")
    env["NCCL_NVLS_ENABLE"] = "0"
    env["TORCH_SYMM_MEM_DISABLE_MULTICAST"] = "1"
    env["NVSHMEM_DISABLE_NVLS"] = "1"
    return was


def main(argv=None):
    ap = argparse.ArgumentParser(description="Time all-reduce and all-to-all(-v) per message size (run under torchrun).")
    ap.add_argument("--backend", default="nccl", choices=("nccl", "gloo"))
    ap.add_argument("--ops", default=",".join(OPS), help="comma list of " + ", ".join(OPS))
    ap.add_argument("--min-bytes", type=int, default=4 * KIB)
    ap.add_argument("--max-bytes", type=int, default=GIB)
    ap.add_argument("--reps", type=int, default=20, help="timed repetitions per point")
    ap.add_argument("--warmup", type=int, default=5, help="untimed repetitions per point")
    ap.add_argument("--dtype", default="bf16", choices=sorted(DTYPES), help="element type (older gloo builds lack bf16)")
    ap.add_argument("--modes", default="graph,eager", help="graph and/or eager (gloo: eager only)")
    args = ap.parse_args(argv)
    ops = [o for o in args.ops.split(",") if o]
    bad = [o for o in ops if o not in OPS]
    if bad:
        ap.error(f"--ops: {bad[0]!r} is not one of {', '.join(OPS)}")
    was = force_multicast_off()
    if was not in (None, "0"):
        print(f"# NCCL_NVLS_ENABLE={was} overridden to 0 (NVLink multicast stays off)", file=sys.stderr)

    import time
    import torch
    import torch.distributed as dist

    dist.init_process_group(args.backend)
    rank, world = dist.get_rank(), dist.get_world_size()
    cuda = args.backend == "nccl"
    if cuda:
        local = int(os.environ.get("LOCAL_RANK", rank))
        torch.cuda.set_device(local)
        dev = torch.device("cuda", local)
    else:
        dev = torch.device("cpu")
    modes = [m for m in args.modes.split(",") if m in ("graph", "eager") and (cuda or m == "eager")]
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[args.dtype]
    torch.manual_seed(1234 + rank)

    def sync():
        if cuda:
            torch.cuda.synchronize()

    # Correctness first: a known sum, and each all-to-all chunk lands at the right peer.
    chk = torch.full((world * 4,), float(rank + 1), device=dev, dtype=dtype)
    dist.all_reduce(chk)
    assert torch.all(chk == world * (world + 1) / 2), "all_reduce gave a wrong sum"
    src = torch.arange(world * 4, device=dev, dtype=torch.float32) + 1000 * rank
    dst = torch.empty_like(src)
    dist.all_to_all_single(dst, src)
    want = torch.cat([torch.arange(rank * 4, rank * 4 + 4, device=dev, dtype=torch.float32) + 1000 * p for p in range(world)])
    assert torch.equal(dst, want), "all_to_all_single put chunks in the wrong place"
    m = split_matrix(8 * world, world)
    src = torch.full((8 * world,), float(rank), device=dev)
    dst = torch.empty(sum(m[p][rank] for p in range(world)), device=dev)
    dist.all_to_all_single(dst, src, [m[p][rank] for p in range(world)], m[rank])
    want = torch.cat([torch.full((m[p][rank],), float(p), device=dev) for p in range(world)])
    assert torch.equal(dst, want), "all_to_all_single (uneven) put chunks in the wrong place"
    sync()

    rows = []
    for nbytes in message_sizes(args.min_bytes, args.max_bytes):
        n = elements(nbytes, world, DTYPES[args.dtype])
        calls = calls_per_rep(nbytes)
        for op in ops:
            x = torch.randn(n, device=dev, dtype=dtype)
            if op == "allreduce":
                y = None
                call = lambda: dist.all_reduce(x)
            elif op == "all2all":
                y = torch.empty_like(x)
                call = lambda: dist.all_to_all_single(y, x)
            else:
                mat = split_matrix(n, world)
                send = mat[rank]
                recv = [mat[p][rank] for p in range(world)]
                y = torch.empty(sum(recv), device=dev, dtype=dtype)
                call = lambda: dist.all_to_all_single(y, x, recv, send)
            for mode in modes:
                if mode == "graph":
                    # Warm the communicator outside capture, then capture `calls` back-to-back calls.
                    s = torch.cuda.Stream()
                    s.wait_stream(torch.cuda.current_stream())
                    with torch.cuda.stream(s):
                        for _ in range(2):
                            call()
                    torch.cuda.current_stream().wait_stream(s)
                    sync()
                    g = torch.cuda.CUDAGraph()
                    with torch.cuda.graph(g):
                        for _ in range(calls):
                            call()
                    rep = g.replay
                else:
                    g = None

                    def rep():
                        for _ in range(calls):
                            call()

                for _ in range(args.warmup):
                    rep()
                sync()
                times = []
                for _ in range(args.reps):
                    dist.barrier()
                    sync()
                    if cuda:
                        a = torch.cuda.Event(enable_timing=True)
                        b = torch.cuda.Event(enable_timing=True)
                        a.record()
                        rep()
                        b.record()
                        b.synchronize()
                        times.append(a.elapsed_time(b) / calls)
                    else:
                        t0 = time.perf_counter()
                        rep()
                        times.append((time.perf_counter() - t0) * 1e3 / calls)
                # A repetition lasts as long as its slowest rank.
                t = torch.tensor(times, dtype=torch.float64, device=dev)
                dist.all_reduce(t, op=dist.ReduceOp.MAX)
                rows.append(csv_row(op, args.backend, world, nbytes, t.tolist(), mode == "graph"))
                if rank == 0:
                    print(rows[-1], file=sys.stderr, flush=True)
                del g
            del x, y
        if cuda:
            torch.cuda.empty_cache()
    if rank == 0:
        print(HEADER)
        for r in rows:
            print(r)
        sys.stdout.flush()
        name = torch.cuda.get_device_name(0) if cuda else "cpu"
        print(f"# {world} x {name}, torch {torch.__version__}, backend {args.backend}, {args.dtype}, NCCL_NVLS_ENABLE={os.environ['NCCL_NVLS_ENABLE']}", file=sys.stderr)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
