"""Inference throughput of the ALBERT encoder: keras_albert vs KerasHub vs
transformers, on every Keras backend, in one run.

What is measured
----------------
The forward pass (inference, no gradients, fp32) of one ALBERT encoder
configuration (by default ALBERT-base: vocabulary 30000, E=128, 12 layers,
hidden 768, 12 heads, intermediate 3072, 512 positions) on one fixed-shape
batch (default 8 x 128 tokens), for three implementations:

- `ours`: `keras_albert.models.AlbertBackbone.from_preset(preset,
  load_weights=False)`, on TensorFlow (`xla`: `jit_compile=True`; `graph`:
  `tf.function` without XLA), JAX (`jit`) and PyTorch (`eager`; `compile`:
  `torch.compile`, only with `--torch-compile`).
- `keras_hub`: `keras_hub.models.AlbertBackbone` with the same dimensions,
  under the same backends and settings.
- `transformers`: `transformers.AlbertModel` (PyTorch, `eval()`,
  `torch.inference_mode()`), same dimensions, `hidden_act="gelu_new"`
  (`compile` too with `--torch-compile`).

All models are randomly initialised (weights do not change the cost) and
have no dropout. Every implementation gets the same inputs: token ids drawn
with a fixed seed (`numpy.random.default_rng(0)`, ids < vocabulary size),
segment ids 0 and a padding mask of ones (no padding).

How it is timed
---------------
Keras fixes its backend per process, so the parent process starts one
subprocess per (implementation, backend) -- this same file with `--worker`
-- and the worker prints one JSON line per setting. Within a worker:

1. the model is built and the inputs are converted to backend tensors once
   (as for transformers, whose inputs are torch tensors built once);
2. the first call is timed on its own ("first call": tracing + XLA/JAX/
   inductor compilation, or just the first eager step);
3. `--warmup` more calls are run untimed, then `--iters` calls are timed one
   by one; throughput is `batch * seq_len / median(call time)` ("best
   tokens/s" uses the fastest call: less sensitive to other processes on a
   shared machine).

For Keras models a "call" is `model.predict_on_batch(inputs)` after
`model.compile(jit_compile=...)`: Keras's own compiled predict step, the
same code path for ours and KerasHub, including the copy of the outputs to
NumPy (which also makes asynchronous backends finish). For transformers a
call is `model(**inputs)` under `torch.inference_mode()`, outputs copied
to NumPy likewise.

Threads are left at each framework's default; the table header reports
`os.cpu_count()` and each worker records torch's thread count and the
1-minute load average when it started (on a shared machine a high load
means the numbers are pessimistic). Workers run one at a time (except with
`--jobs`, meant for `--quick` smoke runs only).

Ratios: "vs KerasHub" divides a row's tokens/s by KerasHub's on the same
backend and setting (if KerasHub was not run with that setting, its fastest
setting on that backend, marked `*`); "vs transformers" divides by
transformers' fastest setting. Above 1 means faster.

Usage
-----
    python benchmarks/encoder_throughput.py                    # full run
    python benchmarks/encoder_throughput.py --iters 5 --warmup 1 \\
        --only ours,keras_hub --backends jax,tensorflow:xla --json out.json
    python benchmarks/encoder_throughput.py --quick            # smoke run
    python benchmarks/encoder_throughput.py --preset large --batch-size 32

`--backends` takes `tensorflow`, `jax`, `torch` or `backend:setting`
(`tensorflow:xla`, `tensorflow:graph`, `jax:jit`, `torch:eager`,
`torch:compile`) and selects the Keras backends; transformers always runs
on PyTorch when it is in `--only`.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from bench_common import add_common_options
from bench_common import markdown_table
from bench_common import parse_marked
from bench_common import run_subprocess

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULT_MARKER = "@@BENCH_RESULT@@ "
CONFIG_MARKER = "@@BENCH_CONFIG@@ "

IMPLEMENTATIONS = ("ours", "keras_hub", "transformers")
KERAS_BACKENDS = ("tensorflow", "jax", "torch")
SETTINGS = {
    "tensorflow": ("xla", "graph"),
    "jax": ("jit",),
    "torch": ("eager", "compile"),
}

# A tiny encoder for `--quick`: runs in well under a second per call.
QUICK_CONFIG = dict(
    vocabulary_size=1000,
    num_layers=2,
    num_heads=2,
    embedding_dim=16,
    hidden_dim=64,
    intermediate_dim=128,
    max_sequence_length=128,
    num_hidden_groups=1,
    inner_group_num=1,
    sharing="all",
)


# --------------------------------------------------------------------------
# Worker side: one implementation on one backend, one or more settings.
# --------------------------------------------------------------------------


def _emit(marker, payload):
    print(marker + json.dumps(payload), flush=True)


def _make_inputs(vocabulary_size, batch_size, seq_len):
    import numpy as np

    rng = np.random.default_rng(0)
    token_ids = rng.integers(
        0, vocabulary_size, size=(batch_size, seq_len)
    ).astype("int32")
    return {
        "token_ids": token_ids,
        "segment_ids": np.zeros((batch_size, seq_len), "int32"),
        "padding_mask": np.ones((batch_size, seq_len), "int32"),
    }


def _time_calls(step, iters, warmup):
    """(first call s, timed call s list, first outputs) of a zero-argument
    `step`."""
    start = time.perf_counter()
    first_outputs = step()
    first = time.perf_counter() - start
    for _ in range(warmup):
        step()
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return first, times, first_outputs


def _check_shape(sequence_output, args, config):
    shape = tuple(sequence_output.shape)
    expected = (args.batch_size, args.seq_len, config["hidden_dim"])
    if shape != expected:
        raise RuntimeError(f"sequence_output shape {shape} != {expected}")


def _result(args, impl, backend, setting, first, times, **extra):
    median = statistics.median(times)
    tokens = args.batch_size * args.seq_len
    out = dict(
        status="ok",
        implementation=impl,
        backend=backend,
        setting=setting,
        tokens_per_s=tokens / median,
        median_s=median,
        min_s=min(times),
        max_s=max(times),
        first_call_s=first,
        iters=len(times),
        warmup=args.warmup,
        batch_size=args.batch_size,
        seq_len=args.seq_len,
        cpu_count=os.cpu_count(),
    )
    out.update(extra)
    return out


def _error(impl, backend, setting, exc, **extra):
    message = f"{type(exc).__name__}: {exc}".strip().splitlines()
    out = dict(
        status="error",
        implementation=impl,
        backend=backend,
        setting=setting,
        error=message[0][:300] if message else type(exc).__name__,
    )
    out.update(extra)
    return out


def _worker_config(args):
    """Prints the resolved encoder config of `--preset` (ours is the source
    of truth for preset names and preset directories)."""
    from keras_albert.models.albert_backbone import AlbertBackbone

    model = AlbertBackbone.from_preset(args.preset, load_weights=False)
    config = model.get_config()
    keep = (
        "vocabulary_size", "num_layers", "num_heads", "embedding_dim",
        "hidden_dim", "intermediate_dim", "max_sequence_length",
        "num_hidden_groups", "inner_group_num", "sharing", "activation",
        "num_segments",
    )
    _emit(CONFIG_MARKER, {k: config[k] for k in keep if k in config})


def _worker_keras(args, impl, backend, settings, config):
    import keras

    common = dict(
        load_avg=os.getloadavg()[0],
        keras_version=keras.__version__,
    )
    start = time.perf_counter()
    if impl == "ours":
        from keras_albert.models.albert_backbone import AlbertBackbone

        if args.quick:
            model = AlbertBackbone(**config)
        else:
            model = AlbertBackbone.from_preset(
                args.preset, load_weights=False, dropout=0.0,
                attention_dropout=0.0,
            )
    else:
        import keras_hub

        common["keras_hub_version"] = keras_hub.__version__
        model = keras_hub.models.AlbertBackbone(
            vocabulary_size=config["vocabulary_size"],
            num_layers=config["num_layers"],
            num_heads=config["num_heads"],
            embedding_dim=config["embedding_dim"],
            hidden_dim=config["hidden_dim"],
            intermediate_dim=config["intermediate_dim"],
            num_groups=config.get("num_hidden_groups", 1),
            num_inner_repetitions=config.get("inner_group_num", 1),
            max_sequence_length=config["max_sequence_length"],
            dropout=0.0,
        )
    common["build_s"] = time.perf_counter() - start
    common["params"] = int(model.count_params())
    if backend == "torch":
        import torch

        common["torch_threads"] = torch.get_num_threads()

    inputs = _make_inputs(
        config["vocabulary_size"], args.batch_size, args.seq_len
    )
    inputs = {k: keras.ops.convert_to_tensor(v) for k, v in inputs.items()}

    for setting in settings:
        jit = setting in ("xla", "jit", "compile")
        try:
            model.compile(jit_compile=jit)
            model.predict_function = None  # never reuse another setting's
            if bool(model.jit_compile) != jit:
                raise RuntimeError(
                    f"Keras refused jit_compile={jit} on {backend}"
                )

            def step():
                return model.predict_on_batch(inputs)

            first, times, outputs = _time_calls(step, args.iters, args.warmup)
            _check_shape(outputs["sequence_output"], args, config)
            _emit(RESULT_MARKER, _result(
                args, impl, backend, setting, first, times, **common
            ))
        except Exception as exc:  # report and go on with the next setting
            _emit(RESULT_MARKER, _error(impl, backend, setting, exc, **common))


def _worker_transformers(args, settings, config):
    import numpy as np
    import torch
    import transformers

    device = "cuda" if torch.cuda.is_available() else "cpu"
    common = dict(
        load_avg=os.getloadavg()[0],
        transformers_version=transformers.__version__,
        torch_version=torch.__version__,
        torch_threads=torch.get_num_threads(),
        device=device,
    )
    start = time.perf_counter()
    hf_config = transformers.AlbertConfig(
        vocab_size=config["vocabulary_size"],
        embedding_size=config["embedding_dim"],
        hidden_size=config["hidden_dim"],
        num_hidden_layers=config["num_layers"],
        num_hidden_groups=config.get("num_hidden_groups", 1),
        inner_group_num=config.get("inner_group_num", 1),
        num_attention_heads=config["num_heads"],
        intermediate_size=config["intermediate_dim"],
        hidden_act="gelu_new",
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        classifier_dropout_prob=0.0,
        max_position_embeddings=config["max_sequence_length"],
        type_vocab_size=config.get("num_segments", 2),
    )
    model = transformers.AlbertModel(hf_config).to(device).eval()
    common["build_s"] = time.perf_counter() - start
    common["params"] = int(sum(p.numel() for p in model.parameters()))
    common["attn_implementation"] = getattr(
        model.config, "_attn_implementation", None
    )

    arrays = _make_inputs(
        config["vocabulary_size"], args.batch_size, args.seq_len
    )
    inputs = {
        "input_ids": torch.from_numpy(arrays["token_ids"].astype(np.int64)),
        "token_type_ids": torch.from_numpy(
            arrays["segment_ids"].astype(np.int64)
        ),
        "attention_mask": torch.from_numpy(
            arrays["padding_mask"].astype(np.int64)
        ),
    }
    inputs = {k: v.to(device) for k, v in inputs.items()}

    for setting in settings:
        try:
            forward = model if setting == "eager" else torch.compile(model)

            def step():
                with torch.inference_mode():
                    out = forward(**inputs)
                    return (
                        out.last_hidden_state.cpu().numpy(),
                        out.pooler_output.cpu().numpy(),
                    )

            first, times, outputs = _time_calls(step, args.iters, args.warmup)
            _check_shape(outputs[0], args, config)
            _emit(RESULT_MARKER, _result(
                args, "transformers", "torch", setting, first, times, **common
            ))
        except Exception as exc:
            _emit(RESULT_MARKER, _error(
                "transformers", "torch", setting, exc, **common
            ))


def run_worker(args):
    config = json.loads(args.config_json) if args.config_json else None
    settings = [s for s in (args.settings or "").split(",") if s]
    if args.worker == "config":
        _worker_config(args)
    elif args.worker == "transformers":
        _worker_transformers(args, settings, config)
    else:
        _worker_keras(args, args.worker, args.backend, settings, config)


# --------------------------------------------------------------------------
# Parent side: plan, run the workers, print the table.
# --------------------------------------------------------------------------


def _parse_backends(text, torch_compile):
    """`"tensorflow,jax:jit"` -> {"tensorflow": [...], "jax": ["jit"]}."""
    plan = {}
    for item in (x.strip() for x in text.split(",")):
        if not item:
            continue
        backend, _, setting = item.partition(":")
        if backend not in KERAS_BACKENDS:
            raise SystemExit(
                f"Unknown backend {backend!r}; use "
                f"{', '.join(KERAS_BACKENDS)}."
            )
        if setting:
            if setting not in SETTINGS[backend]:
                raise SystemExit(
                    f"Unknown setting {setting!r} for {backend}; use "
                    f"{', '.join(SETTINGS[backend])}."
                )
            wanted = [setting]
        else:
            wanted = [
                s for s in SETTINGS[backend]
                if s != "compile" or torch_compile
            ]
        for s in wanted:
            plan.setdefault(backend, [])
            if s not in plan[backend]:
                plan[backend].append(s)
    return plan


def _tail(text, lines=8):
    return "\n".join(text.strip().splitlines()[-lines:])


def _common_argv(args):
    argv = [
        sys.executable, os.path.abspath(__file__),
        "--batch-size", str(args.batch_size),
        "--seq-len", str(args.seq_len),
        "--iters", str(args.iters),
        "--warmup", str(args.warmup),
        "--preset", args.preset,
    ]
    if args.quick:
        argv.append("--quick")
    return argv


def _resolve_config(args, backend):
    if args.quick:
        config = dict(QUICK_CONFIG)
        config["max_sequence_length"] = max(
            config["max_sequence_length"], args.seq_len
        )
        return config
    argv = _common_argv(args) + ["--worker", "config"]
    stdout, stderr, code = run_subprocess(argv, backend, args.timeout)
    found = parse_marked(stdout, CONFIG_MARKER)
    if not found:
        raise SystemExit(
            f"Could not resolve preset {args.preset!r} (exit {code}):\n"
            + _tail(stderr + stdout, 20)
        )
    return found[-1]


def _run_job(args, job, config):
    impl, backend, settings = job
    argv = _common_argv(args) + [
        "--worker", impl,
        "--backend", backend,
        "--settings", ",".join(settings),
        "--config-json", json.dumps(config),
    ]
    start = time.perf_counter()
    stdout, stderr, code = run_subprocess(argv, backend, args.timeout)
    wall = time.perf_counter() - start
    results = parse_marked(stdout, RESULT_MARKER)
    done = {r["setting"] for r in results}
    for setting in settings:
        if setting in done:
            continue
        if code is None:
            why = f"timeout: worker killed after {args.timeout:.0f} s"
        else:
            why = f"worker exited {code}: " + _tail(stderr, 3).replace(
                "\n", " | "
            )[-300:]
        results.append(dict(
            status="error", implementation=impl, backend=backend,
            setting=setting, error=why,
        ))
    for r in results:
        r["worker_wall_s"] = wall
    if args.verbose:
        print(f"[{impl}/{backend}] {wall:.1f} s, exit {code}", file=sys.stderr)
        if code:
            print(_tail(stderr, 30), file=sys.stderr)
    return results


def _plan_jobs(args, only, plan):
    """Backend-major order (ours and KerasHub on one backend back to back,
    transformers last, next to the torch rows), so the rows being compared
    run close together in time."""
    jobs = []
    for backend, settings in plan.items():
        for impl in ("ours", "keras_hub"):
            if impl in only:
                jobs.append((impl, backend, list(settings)))
    if "transformers" in only:
        settings = ["eager"] + (["compile"] if args.torch_compile else [])
        jobs.append(("transformers", "torch", settings))
    return jobs


def _add_ratios(results):
    ok = [r for r in results if r.get("status") == "ok"]
    hub = {(r["backend"], r["setting"]): r["tokens_per_s"]
           for r in ok if r["implementation"] == "keras_hub"}
    hub_best = {}
    for (backend, _), tps in hub.items():
        hub_best[backend] = max(tps, hub_best.get(backend, 0.0))
    hf = [
        r["tokens_per_s"] for r in ok
        if r["implementation"] == "transformers"
    ]
    hf_best = max(hf) if hf else None
    for r in ok:
        key = (r["backend"], r["setting"])
        if key in hub:
            r["vs_keras_hub"] = r["tokens_per_s"] / hub[key]
            r["vs_keras_hub_fallback"] = False
        elif r["backend"] in hub_best:
            r["vs_keras_hub"] = r["tokens_per_s"] / hub_best[r["backend"]]
            r["vs_keras_hub_fallback"] = True
        if hf_best:
            r["vs_transformers"] = r["tokens_per_s"] / hf_best


TABLE_COLUMNS = (
    "implementation", "backend", "setting", "tokens/s", "best tokens/s",
    "ms/batch",
    "first call s", "vs KerasHub", "vs transformers", "params", "load1",
)


def format_table(results):
    """A Markdown pipe table, one row per (implementation, backend,
    setting); failed rows keep their place with the error in `tokens/s`."""
    rows = []
    for r in results:
        if r.get("status") != "ok":
            rows.append([
                r["implementation"], r["backend"], r["setting"],
                "FAILED", "-", "-", "-", "-", "-", "-", "-",
            ])
            continue
        vs_hub = "-"
        if "vs_keras_hub" in r:
            vs_hub = f"{r['vs_keras_hub']:.2f}"
            if r.get("vs_keras_hub_fallback"):
                vs_hub += "*"
        vs_hf = "-"
        if "vs_transformers" in r:
            vs_hf = f"{r['vs_transformers']:.2f}"
        rows.append([
            r["implementation"], r["backend"], r["setting"],
            f"{r['tokens_per_s']:.0f}",
            f"{r['batch_size'] * r['seq_len'] / r['min_s']:.0f}",
            f"{r['median_s'] * 1000:.0f}",
            f"{r['first_call_s']:.1f}",
            vs_hub, vs_hf,
            f"{r['params'] / 1e6:.2f}M",
            f"{r['load_avg']:.1f}",
        ])
    return markdown_table(TABLE_COLUMNS, rows)


def parse_table(text):
    """Rows of a table printed by `format_table` as dicts (for tests and
    for anyone post-processing the printed output)."""
    lines = [ln for ln in text.splitlines() if ln.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    return [
        dict(zip(header, (c.strip() for c in ln.strip("|").split("|"))))
        for ln in lines[2:]
    ]


def run_parent(args):
    only = [x.strip() for x in args.only.split(",") if x.strip()]
    for impl in only:
        if impl not in IMPLEMENTATIONS:
            raise SystemExit(
                f"Unknown implementation {impl!r}; use "
                f"{', '.join(IMPLEMENTATIONS)}."
            )
    plan = _parse_backends(args.backends, args.torch_compile)
    config_backend = next(iter(plan), "tensorflow")
    config = _resolve_config(args, config_backend)
    if config.get("sharing", "all") != "all":
        raise SystemExit(
            "KerasHub and transformers only share all parameters; "
            f"this preset uses sharing={config['sharing']!r}."
        )
    jobs = _plan_jobs(args, only, plan)
    jobs_n = args.jobs or (3 if args.quick else 1)

    started = time.perf_counter()
    if jobs_n > 1:
        with ThreadPoolExecutor(jobs_n) as pool:
            batches = list(pool.map(lambda j: _run_job(args, j, config), jobs))
    else:
        batches = []
        for job in jobs:
            if args.verbose:
                print(f"running {job[0]} on {job[1]} ({','.join(job[2])})",
                      file=sys.stderr, flush=True)
            batches.append(_run_job(args, job, config))
    results = [r for batch in batches for r in batch]
    _add_ratios(results)
    total = time.perf_counter() - started

    name = "quick (tiny)" if args.quick else args.preset
    print(
        f"ALBERT encoder forward throughput -- preset {name}: "
        f"{config['num_layers']} layers, hidden {config['hidden_dim']}, "
        f"E {config['embedding_dim']}, heads {config['num_heads']}, "
        f"intermediate {config['intermediate_dim']}, vocab "
        f"{config['vocabulary_size']}"
    )
    print(
        f"batch {args.batch_size} x {args.seq_len} tokens, fp32, median of "
        f"{args.iters} timed calls after {args.warmup} warm-up; "
        f"os.cpu_count()={os.cpu_count()}; {platform.machine()} "
        f"{platform.python_version()}; total {total:.0f} s"
    )
    print()
    print(format_table(results))
    print()
    print(
        "tokens/s: from the median call; best tokens/s: from the fastest "
        "call (less sensitive to other load). vs KerasHub: / KerasHub on the "
        "same backend and setting (* = its fastest setting on that backend); "
        "vs transformers: / transformers' fastest (both on median tokens/s). "
        "load1: 1-min load average when the worker started."
    )
    loads = [r["load_avg"] for r in results if "load_avg" in r]
    if loads and max(loads) > (os.cpu_count() or 1):
        print(
            f"WARNING: load average reached {max(loads):.1f} on "
            f"{os.cpu_count()} CPUs: other processes competed for the cores, "
            "so these numbers are pessimistic and noisy."
        )
    for r in results:
        if r.get("status") != "ok":
            print(f"FAILED {r['implementation']}/{r['backend']}/"
                  f"{r['setting']}: {r['error']}")
    if not args.torch_compile and "torch" in plan:
        print("torch.compile rows skipped (pass --torch-compile to add them).")
    if args.json:
        from keras_albert.utils.atomic_files import atomic_file

        with atomic_file(args.json, encoding="utf-8") as f:
            json.dump(dict(
                config=config, preset=name, batch_size=args.batch_size,
                seq_len=args.seq_len, iters=args.iters, warmup=args.warmup,
                cpu_count=os.cpu_count(), total_s=total, results=results,
            ), f, indent=2)
    return 0 if all(r.get("status") == "ok" for r in results) else 1


def build_parser():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--iters", type=int, default=10,
                        help="timed calls per setting (median reported)")
    parser.add_argument("--warmup", type=int, default=2,
                        help="untimed calls after the first (compile) call")
    parser.add_argument("--only", default=",".join(IMPLEMENTATIONS),
                        help="comma list of ours,keras_hub,transformers")
    parser.add_argument("--backends", default=",".join(KERAS_BACKENDS),
                        help="comma list of Keras backends, optionally "
                             "backend:setting (tensorflow:xla, "
                             "tensorflow:graph, jax:jit, torch:eager, "
                             "torch:compile)")
    parser.add_argument("--preset", default="base",
                        help="keras_albert preset name or directory")
    parser.add_argument("--quick", action="store_true",
                        help="tiny 2-layer model, for smoke runs")
    parser.add_argument("--torch-compile", action="store_true",
                        help="also time torch.compile (slow to compile on "
                             "CPU)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="workers run at once (default 1; 3 with "
                             "--quick). Above 1 the timings interfere.")
    add_common_options(parser, timeout=900)
    # Internal: how the parent starts a worker.
    parser.add_argument("--backend", help=argparse.SUPPRESS)
    parser.add_argument("--settings", help=argparse.SUPPRESS)
    parser.add_argument("--config-json", help=argparse.SUPPRESS)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.iters < 1:
        raise SystemExit("--iters must be >= 1.")
    if args.worker:
        if args.backend:
            # Keras reads this once, at import time.
            os.environ["KERAS_BACKEND"] = args.backend
        sys.path.insert(0, REPO_ROOT)
        run_worker(args)
        return 0
    return run_parent(args)


if __name__ == "__main__":
    sys.exit(main())
