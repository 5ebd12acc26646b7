"""How long `keras-albert --help` (and each subcommand's `--help`) takes.

Each command runs as a whole new process (`python -m keras_albert.cli ...`,
from this checkout), as a user's shell starts it: interpreter start-up,
imports and argument parsing. One untimed warm-up run per command fills
the file cache; then `--runs` timed runs; the table gives the median and
the range of wall-clock seconds. Whether TensorFlow was imported is read
from a separate run of the same parser in one process.

```bash
python benchmarks/cli_help.py            # 5 runs per command
python benchmarks/cli_help.py --runs 3 --commands "" finetune
```

Measured on the project's shared 2-core CPU machine (other jobs running;
median of 5 whole-process runs, keras_albert 0.1.0, TensorFlow 2.21):

| command | before (TensorFlow imported) | after |
|---|---|---|
| `keras-albert --help` | 13.8 s | 0.16 s |
| `keras-albert finetune --help` | 9.2 s | 0.15 s |
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMMANDS = ("", "quickstart", "tokenizer", "pretrain", "convert", "export",
            "finetune")


def time_command(words, runs):
    """Wall-clock seconds of `runs` fresh processes of
    `python -m keras_albert.cli WORDS --help` (after one warm-up)."""
    argv = [sys.executable, "-m", "keras_albert.cli", *words, "--help"]
    times = []
    for run in range(runs + 1):
        start = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        if run:  # the first run is the warm-up
            times.append(time.perf_counter() - start)
    return times


def imports_tensorflow():
    """Whether building every `--help` imports TensorFlow."""
    code = (
        "import sys, contextlib, io\n"
        "import keras_albert.cli as cli\n"
        "for words in %r:\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        try:\n"
        "            cli.main([*words.split(), '--help'])\n"
        "        except SystemExit:\n"
        "            pass\n"
        "print('tensorflow' in sys.modules)\n" % (COMMANDS,)
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT,
                            capture_output=True, text=True, check=True)
    return result.stdout.strip() == "True"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--commands", nargs="*", default=list(COMMANDS),
                        help='subcommands to time ("" is the bare command)')
    args = parser.parse_args(argv)
    print(f"TensorFlow imported by --help: {imports_tensorflow()}")
    print("| command | median s | min s | max s |")
    print("|---|---|---|---|")
    for command in args.commands:
        times = time_command(command.split(), args.runs)
        name = " ".join(["keras-albert", command, "--help"]).replace(
            "  ", " ")
        print(f"| `{name}` | {statistics.median(times):.2f} | "
              f"{min(times):.2f} | {max(times):.2f} |")


if __name__ == "__main__":
    main()
