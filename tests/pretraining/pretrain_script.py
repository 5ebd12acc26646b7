"""Runs `keras_albert.pretraining.trainer.pretrain` on synthetic batches in
its own process:
`python -m tests.pretraining.pretrain_script --output DIR ...`.

Used by the resume (SIGKILL) and distribution tests, which need a fresh
process: TensorFlow's devices and collectives, and JAX's host device count,
are fixed when their runtimes start.
"""

import argparse
import os
import sys
import time


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--output", required=True)
    parser.add_argument("--strategies", default="none",
                        help="Comma-separated; each run goes to OUTPUT/KIND.")
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--num-batches", type=int, default=5,
                        help="Distinct batches in the (repeated) dataset.")
    parser.add_argument("--accumulation", type=int, default=1)
    parser.add_argument("--checkpoint-every", type=int, default=4)
    parser.add_argument("--log-every", type=int, default=1)
    parser.add_argument("--learning-rate", type=float, default=5e-3)
    parser.add_argument("--mixed-precision", default=None)
    parser.add_argument("--sleep", type=float, default=0.0,
                        help="Seconds to sleep after each batch (so a test "
                             "can kill the process mid-run).")
    parser.add_argument("--logical-cpus", type=int, default=0)
    parser.add_argument("--no-jit", action="store_true")
    args = parser.parse_args(argv)

    from keras_albert.pretraining import distribution

    if args.logical_cpus:
        distribution.configure_logical_cpus(args.logical_cpus)

    import keras

    from keras_albert.pretraining.pretraining_config import (
        PretrainingConfig,
    )
    from keras_albert.pretraining.trainer import pretrain
    from tests.pretraining.helpers import TINY_BACKBONE
    from tests.pretraining.helpers import synthetic_dataset

    class Sleep(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            time.sleep(args.sleep)

    for kind in args.strategies.split(","):
        config = PretrainingConfig(
            backbone_config=TINY_BACKBONE, sequence_length=16,
            max_predictions_per_seq=4, batch_size=args.batch_size,
            steps=args.steps, warmup_steps=2,
            learning_rate=args.learning_rate,
            gradient_accumulation_steps=args.accumulation,
            mixed_precision=args.mixed_precision, strategy=kind,
            checkpoint_every=args.checkpoint_every,
            log_every=args.log_every,
            output_dir=os.path.join(args.output, kind), seed=7,
            jit_compile=False if args.no_jit else "auto")

        # The strategy before any dataset: a tf.data op would start TF's
        # runtime, after which MultiWorkerMirroredStrategy cannot be made.
        strategy = distribution.make_strategy(kind)
        # A plain (finite, deterministic) dataset: `pretrain` repeats it and,
        # on resume, skips the batches already trained on.
        data = synthetic_dataset(args.num_batches, args.batch_size, seed=3)
        result = pretrain(config, data, strategy=strategy,
                          callbacks=[Sleep()] if args.sleep else [])
        print(f"DONE {kind} initial_step={result.initial_step} "
              f"final_step={result.final_step}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
