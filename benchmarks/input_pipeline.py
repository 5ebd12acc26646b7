"""Is the pretraining input pipeline ever the bottleneck?

Measures examples/s of
- the streaming `tf.data` pipeline (first pass: read + tokenize + pack +
  mask; later passes: re-pack + re-mask from cached token ids),
- reading sharded TFRecords (unmasked records masked at read time, and
  records with stored masks),
against the training rate of a small `AlbertPretrainer` on the same machine
(fed from an in-memory batch, so it measures compute only), and finally the
rate of `fit` fed by the streaming pipeline itself.

Corpus: documentation prose of the Python standard library
(`keras_albert.datasets.load_python_docs()`), so it runs offline.

Usage:
    KERAS_BACKEND=tensorflow python benchmarks/input_pipeline.py
    python benchmarks/input_pipeline.py --batch-size 32 --sequence-length 128 \
        --train-steps 30 --spm /tmp/spiece.model
"""

import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Run from a checkout without installing: make the repository importable.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))


def _rate(dataset, max_batches, batch_size):
    """(examples/s, CPU ms per batch, batches) after one warm-up batch.

    CPU time (all threads of this process) is reported too because wall
    time on a shared machine also measures the neighbours.
    """
    iterator = iter(dataset)
    next(iterator)  # builds the pipeline, fills the first buffers
    start, cpu, n = time.perf_counter(), time.process_time(), 0
    for _ in range(max_batches):
        try:
            next(iterator)
        except StopIteration:
            break
        n += 1
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu
    return n * batch_size / elapsed, 1000 * cpu / max(n, 1), n


def _first_pass_rate(make, batch_size):
    """Like `_rate`, over a whole first pass, startup included."""
    start, cpu = time.perf_counter(), time.process_time()
    n = sum(1 for _ in make())
    cpu = time.process_time() - cpu
    return (n * batch_size / (time.perf_counter() - start),
            1000 * cpu / max(n, 1), n)


def _train_rate(model, dataset, steps, batch_size):
    """(examples/s, CPU ms per step) of `fit` for `steps` steps."""
    start, cpu = time.perf_counter(), time.process_time()
    model.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0)
    cpu = time.process_time() - cpu
    return (steps * batch_size / (time.perf_counter() - start),
            1000 * cpu / steps)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--sequence-length", type=int, default=128)
    parser.add_argument("--max-predictions", type=int, default=20)
    parser.add_argument("--vocab-size", type=int, default=8000)
    parser.add_argument("--num-layers", type=int, default=4)
    parser.add_argument("--hidden-dim", type=int, default=128)
    parser.add_argument("--train-steps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3,
                        help="Training measurements alternate in-memory and "
                             "streamed input this many times; the best of "
                             "each is kept (robust to busy neighbours).")
    parser.add_argument("--pipeline-batches", type=int, default=150)
    parser.add_argument("--spm", help="Existing SentencePiece model to use "
                        "(default: train one on the corpus).")
    parser.add_argument("--workdir", help="Where to put the model and "
                        "TFRecords (default: a temporary directory).")
    args = parser.parse_args(argv)

    import keras
    import numpy as np
    import tensorflow as tf

    from keras_albert import AlbertBackbone
    from keras_albert import AlbertPretrainer
    from keras_albert.datasets import load_python_docs
    from keras_albert.preprocessing import AlbertTokenizer
    from keras_albert.preprocessing import train_sentencepiece
    from keras_albert.pretraining.pretraining_dataset import (
        iter_pretraining_instances,
    )
    from keras_albert.pretraining.pretraining_dataset import (
        make_pretraining_dataset,
    )
    from keras_albert.pretraining.tfrecords import read_tfrecords
    from keras_albert.pretraining.tfrecords import write_tfrecords

    workdir = args.workdir or tempfile.mkdtemp(prefix="albert_bench_")
    B, L, P = args.batch_size, args.sequence_length, args.max_predictions
    t0 = time.perf_counter()
    # Importing `idlelib.idle` (one of the harvested modules) runs IDLE's
    # command-line parser on sys.argv, which exits on our flags: hide them.
    saved_argv, sys.argv = sys.argv, sys.argv[:1]
    try:
        docs = load_python_docs()
    finally:
        sys.argv = saved_argv
    sentences = [s for _, doc in docs for s in doc]
    print(f"corpus: {len(docs)} documents, {len(sentences)} sentences "
          f"({time.perf_counter() - t0:.1f} s to harvest)")
    spm_path = args.spm
    if spm_path is None:
        spm_path = os.path.join(workdir, "spiece.model")
        t0 = time.perf_counter()
        train_sentencepiece(sentences, spm_path,
                            vocabulary_size=args.vocab_size)
        print(f"SentencePiece model trained in "
              f"{time.perf_counter() - t0:.1f} s")
    tokenizer = AlbertTokenizer(proto=spm_path)
    vocab = tokenizer.vocabulary_size()

    def stream(**kw):
        return make_pretraining_dataset(
            docs, tokenizer, sequence_length=L, max_predictions_per_seq=P,
            batch_size=B, seed=0, **kw)

    rows = []
    # First pass: reading, batched tokenization, packing and masking.
    rate, cpu, n = _first_pass_rate(stream, B)
    rows.append(("streaming, 1st pass (tokenize+pack+mask)", rate, cpu))
    per_epoch = n
    # Later passes reuse cached ids: re-pack and re-mask only.
    ds = stream(repeat=True)
    for _ in ds.take(per_epoch + 1):  # finish the first (tokenizing) pass
        pass
    rate, cpu, n = _rate(ds, args.pipeline_batches, B)
    rows.append(("streaming, later passes (pack+mask)", rate, cpu))

    # TFRecords, unmasked (masked at read time) and with stored masks.
    unmasked_dir = os.path.join(workdir, "records_unmasked")
    masked_dir = os.path.join(workdir, "records_masked")
    t0 = time.perf_counter()
    write_tfrecords(iter_pretraining_instances(docs, tokenizer,
                                               sequence_length=L, seed=0),
                    unmasked_dir, num_shards=8, sequence_length=L,
                    progress=False)
    write_time = time.perf_counter() - t0
    write_tfrecords(stream(), masked_dir, num_shards=8, progress=False)
    rate, cpu, n = _rate(read_tfrecords(
        unmasked_dir, tokenizer, batch_size=B, max_predictions_per_seq=P,
        seed=0, repeat=True), args.pipeline_batches, B)
    rows.append(("TFRecords, masked at read time", rate, cpu))
    rate, cpu, n = _rate(read_tfrecords(masked_dir, batch_size=B, seed=0,
                                        repeat=True),
                         args.pipeline_batches, B)
    rows.append(("TFRecords, stored masks", rate, cpu))

    # Training compute alone: one cached batch, repeated.
    keras.utils.set_random_seed(0)
    backbone = AlbertBackbone(
        vocabulary_size=vocab, num_layers=args.num_layers, num_heads=2,
        embedding_dim=128, hidden_dim=args.hidden_dim,
        intermediate_dim=4 * args.hidden_dim, max_sequence_length=L,
        num_segments=2)
    model = AlbertPretrainer(backbone)
    model.compile()
    batch = next(iter(stream()))
    fixed = tf.data.Dataset.from_tensors(batch).repeat()
    # Training fed by the streaming pipeline.
    live = stream(repeat=True)
    _train_rate(model, fixed, 3, B)  # compile
    _train_rate(model, live, 3, B)
    train_runs, fed_runs = [], []
    for _ in range(args.rounds):
        train_runs.append(_train_rate(model, fixed, args.train_steps, B))
        fed_runs.append(_train_rate(model, live, args.train_steps, B))
    train_rates = [r for r, _ in train_runs]
    fed_rates = [r for r, _ in fed_runs]
    train_rate, fed_rate = max(train_rates), max(fed_rates)
    train_cpu = min(c for _, c in train_runs)
    fed_cpu = min(c for _, c in fed_runs)
    step_ms = 1000 * B / train_rate

    backend = keras.backend.backend()
    print()
    print(f"backend {backend}; batch {B}, sequence {L}, predictions {P}; "
          f"model {args.num_layers} layers, hidden {args.hidden_dim}, "
          f"vocab {vocab}; {os.cpu_count()} CPU cores; "
          f"{per_epoch * B} examples per pass")
    print(f"TFRecord writing: {per_epoch * B / write_time:,.0f} examples/s")
    print(f"| {'source':44} | {'examples/s':>10} | {'x training':>10} "
          f"| {'CPU ms/batch':>12} |")
    print(f"|{'-' * 46}|{'-' * 11}:|{'-' * 11}:|{'-' * 13}:|")
    for name, rate, cpu in rows:
        print(f"| {name:44} | {rate:10,.0f} | {rate / train_rate:10.1f} "
              f"| {cpu:12.1f} |")
    print(f"| {'training, in-memory batch (best of rounds)':44} | "
          f"{train_rate:10,.0f} | {1.0:10.1f} | {train_cpu:12.1f} |")
    print(f"| {'training, fed by streaming (best of rounds)':44} | "
          f"{fed_rate:10,.0f} | {fed_rate / train_rate:10.2f} "
          f"| {fed_cpu:12.1f} |")
    print(f"training step: {step_ms:.0f} ms in memory; all rounds (ex/s) "
          f"in memory {[round(r) for r in train_rates]}, streamed "
          f"{[round(r) for r in fed_rates]}")
    return np.array([r for _, r, _ in rows]).min() / train_rate


if __name__ == "__main__":
    main()
