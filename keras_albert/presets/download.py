"""Fetches the published ALBERT checkpoints into local caches.

Named presets try their sources in order (default: Hugging Face hub, then
Google's original archive, then KerasHub on Kaggle; reorder or restrict
with `KERAS_ALBERT_SOURCES=google,hf`). Each source keeps its own cache:

- Hugging Face: the hub cache (`HF_HUB_CACHE`, or `HF_HOME/hub`), through
  `huggingface_hub`;
- Google: `$KERAS_ALBERT_CACHE/google/` (default `~/.cache/keras_albert`),
  archives downloaded with `urllib` and unpacked safely;
- Kaggle: the `kagglehub` cache (`KAGGLEHUB_CACHE`).

Offline use: with `HF_HUB_OFFLINE=1` (or `KERAS_ALBERT_OFFLINE=1`) only the
caches are consulted. Without network, a source whose host cannot be
reached within a couple of seconds is treated the same way, so a failure
arrives quickly instead of after the clients' retry loops.

Example:
```python
from keras_albert.presets import download

kind, folder = download.fetch_named("base-v2")  # ("hf_dir", ".../snapshots/...")
```
"""

import os
import socket
import threading
import urllib.parse

from keras_albert.presets.errors import PresetError
from keras_albert.presets.registry import ALBERT_PRESETS

DEFAULT_SOURCES = ("hf", "google", "kaggle")
HF_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
HF_OPTIONAL_FILES = ("spiece.model", "tokenizer_config.json")


def _is_true(value):
    return str(value or "").strip().lower() in ("1", "true", "yes", "on")


def is_offline():
    """True when the user asked for cache-only loading."""
    return _is_true(os.environ.get("HF_HUB_OFFLINE")) or _is_true(
        os.environ.get("KERAS_ALBERT_OFFLINE")
    )


def timeout():
    """Seconds to wait for a host (`KERAS_ALBERT_TIMEOUT`, default 10)."""
    try:
        return float(os.environ.get("KERAS_ALBERT_TIMEOUT", 10))
    except ValueError:
        return 10.0


def cache_dir():
    """keras-albert's own cache: `$KERAS_ALBERT_CACHE` or
    `~/.cache/keras_albert`."""
    return os.path.expanduser(
        os.environ.get("KERAS_ALBERT_CACHE")
        or os.path.join("~", ".cache", "keras_albert")
    )


def hf_cache_dir():
    """The hub cache, read from the environment at call time (the
    `huggingface_hub` constants are frozen when it is first imported)."""
    if os.environ.get("HF_HUB_CACHE"):
        return os.path.expanduser(os.environ["HF_HUB_CACHE"])
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.join("~", ".cache")),
        "huggingface",
    )
    return os.path.join(os.path.expanduser(home), "hub")


def source_order():
    raw = os.environ.get("KERAS_ALBERT_SOURCES")
    if not raw:
        return DEFAULT_SOURCES
    order = tuple(s.strip().lower() for s in raw.split(",") if s.strip())
    unknown = [s for s in order if s not in DEFAULT_SOURCES]
    if unknown:
        raise PresetError(
            f"KERAS_ALBERT_SOURCES names unknown sources {unknown}; use "
            f"{', '.join(DEFAULT_SOURCES)}."
        )
    return order


def _reachable(url, seconds=None):
    """Whether a TCP connection to `url`'s host (or the configured proxy)
    opens within `seconds`. DNS lookups cannot be given a timeout, so the
    probe runs in a daemon thread that is abandoned if it takes too long."""
    seconds = min(timeout(), 3.0) if seconds is None else seconds
    proxy = os.environ.get("HTTPS_PROXY") or os.environ.get("https_proxy")
    parsed = urllib.parse.urlparse(proxy or url)
    host = parsed.hostname
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    if not host:
        return False
    result = []

    def probe():
        try:
            socket.create_connection((host, port), timeout=seconds).close()
            result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(seconds)
    return bool(result and result[0])


# -- Hugging Face -------------------------------------------------------------
def _hf_endpoint():
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co")


def _hf_cached(repo_id, revision):
    """The snapshot folder of `repo_id` in the hub cache, or None."""
    from huggingface_hub import try_to_load_from_cache

    cache = hf_cache_dir()
    config = try_to_load_from_cache(
        repo_id, "config.json", cache_dir=cache, revision=revision
    )
    if not isinstance(config, str):
        return None
    folder = os.path.dirname(config)
    if not any(os.path.isfile(os.path.join(folder, f))
               for f in HF_WEIGHT_FILES):
        return None
    return folder


def fetch_hf(repo_id, revision=None):
    """Downloads (or finds in the hub cache) an HF ALBERT repo; returns the
    snapshot folder holding `config.json`, the weights and `spiece.model`.

    Only the files ALBERT needs are fetched: safetensors when the repo has
    them, `pytorch_model.bin` otherwise.
    """
    import huggingface_hub
    from huggingface_hub import errors as hf_errors

    if is_offline():
        folder = _hf_cached(repo_id, revision)
        if folder is None:
            raise PresetError(
                f"not in the hub cache {hf_cache_dir()} (offline mode)"
            )
        return folder
    if not _reachable(_hf_endpoint()):
        folder = _hf_cached(repo_id, revision)
        if folder is None:
            raise PresetError(
                f"{_hf_endpoint()} is unreachable and the repo is not in "
                f"the hub cache {hf_cache_dir()}"
            )
        return folder

    def get(filename):
        return huggingface_hub.hf_hub_download(
            repo_id, filename, revision=revision, cache_dir=hf_cache_dir(),
            etag_timeout=timeout(),
        )

    try:
        config = get("config.json")
        for weights in HF_WEIGHT_FILES:
            try:
                get(weights)
                break
            except hf_errors.EntryNotFoundError as e:
                if isinstance(e, hf_errors.LocalEntryNotFoundError):
                    raise
        else:
            raise PresetError(
                f"hf://{repo_id} has neither {' nor '.join(HF_WEIGHT_FILES)}"
            )
        for optional in HF_OPTIONAL_FILES:
            try:
                get(optional)
            except hf_errors.EntryNotFoundError as e:
                if isinstance(e, hf_errors.LocalEntryNotFoundError):
                    raise
    except PresetError:
        raise
    except (hf_errors.HfHubHTTPError, OSError, ValueError) as e:
        raise PresetError(
            f"download from hf://{repo_id} failed: {str(e).splitlines()[0]}"
        ) from None
    return os.path.dirname(config)


# -- Google -------------------------------------------------------------------
def _archive_name(url):
    return os.path.basename(urllib.parse.urlparse(url).path)


def _release_folder(url):
    name = _archive_name(url)
    for suffix in (".tar.gz", ".tgz", ".tar"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return os.path.join(cache_dir(), "google", name)


def _download(url, path):
    """Streams `url` to `path` with a progress bar; atomic via `.part`."""
    import urllib.request

    from tqdm.auto import tqdm

    os.makedirs(os.path.dirname(path), exist_ok=True)
    part = path + ".part"
    try:
        with urllib.request.urlopen(url, timeout=timeout()) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with open(part, "wb") as f, tqdm(
                total=total, unit="B", unit_scale=True,
                desc=os.path.basename(path),
            ) as bar:
                while True:
                    chunk = response.read(1 << 20)
                    if not chunk:
                        break
                    f.write(chunk)
                    bar.update(len(chunk))
        if total is not None and os.path.getsize(part) != total:
            raise PresetError(
                f"download of {url} stopped early "
                f"({os.path.getsize(part)} of {total} bytes)"
            )
        os.replace(part, path)
    except OSError as e:
        raise PresetError(f"download of {url} failed: {e}") from None
    finally:
        if os.path.exists(part):
            os.remove(part)
    return path


def fetch_google(url):
    """Finds or downloads Google's release archive `url` and unpacks it
    into `$KERAS_ALBERT_CACHE/google/<name>/`; returns the release folder.

    A manually downloaded archive placed at
    `$KERAS_ALBERT_CACHE/google/<name>.tar.gz` is used as is.
    """
    from keras_albert.presets import google_checkpoint

    folder = _release_folder(url)
    if os.path.isdir(folder):
        return google_checkpoint.find_release_dir(folder)
    archive = os.path.join(cache_dir(), "google", _archive_name(url))
    if not os.path.isfile(archive):
        if is_offline():
            raise PresetError(f"{archive} is not cached (offline mode)")
        if not _reachable(url):
            raise PresetError(
                f"{urllib.parse.urlparse(url).hostname} is unreachable and "
                f"{archive} is not cached"
            )
        _download(url, archive)
    return google_checkpoint.extract_archive(archive, folder)


# -- Kaggle -------------------------------------------------------------------
def _kaggle_handle(handle):
    return handle[len("kaggle://"):] if handle.startswith("kaggle://") else (
        handle
    )


def _kaggle_cached(handle):
    """The newest cached version of a Kaggle model handle, or None."""
    import kagglehub.config

    parts = _kaggle_handle(handle).strip("/").split("/")
    root = os.path.join(kagglehub.config.get_cache_folder(), "models", *parts)
    if len(parts) == 5:  # owner/model/framework/variation/version
        return root if os.path.isdir(root) else None
    if not os.path.isdir(root):
        return None
    versions = [v for v in os.listdir(root) if v.isdigit()
                and os.path.isdir(os.path.join(root, v))]
    if not versions:
        return None
    return os.path.join(root, max(versions, key=int))


def fetch_kaggle(handle):
    """Downloads (or finds cached) a KerasHub preset from Kaggle."""
    if is_offline() or not _reachable("https://www.kaggle.com"):
        folder = _kaggle_cached(handle)
        if folder is None:
            why = "offline mode" if is_offline() else "kaggle.com unreachable"
            raise PresetError(f"not in the kagglehub cache ({why})")
        return folder
    import kagglehub

    try:
        return kagglehub.model_download(_kaggle_handle(handle))
    except Exception as e:  # kagglehub raises requests/HTTP/its own errors
        raise PresetError(
            f"kagglehub download failed: {str(e).splitlines()[0]}"
        ) from None


# -- named presets ------------------------------------------------------------
def fetch_named(name):
    """Returns `(kind, folder)` for a registry preset, trying its sources in
    `source_order()`; raises one `PresetError` naming every source tried
    and how to supply the files when all fail."""
    sources = ALBERT_PRESETS[name]["sources"]
    failures = []
    for source in source_order():
        where = sources.get(source)
        if where is None:
            continue
        try:
            if source == "hf":
                return "hf_dir", fetch_hf(where)
            if source == "google":
                return "google_dir", fetch_google(where)
            return "keras_hub_dir", fetch_kaggle(where)
        except PresetError as e:
            label = {"hf": f"hf://{where}", "google": where}.get(source, where)
            failures.append(f"{label}: {e}")
    raise PresetError(
        f"Could not get the pretrained weights of preset {name!r}. Tried:\n  "
        + "\n  ".join(failures)
        + "\nTo load without network, either pass a local path to "
        "`from_preset` (a Hugging Face folder, Google's .tar.gz or its "
        "unpacked folder, or a KerasHub/keras-albert preset folder), or "
        "populate a cache: the Hugging Face hub cache (HF_HOME / "
        "HF_HUB_CACHE, e.g. from `hf download "
        f"{sources['hf']}` on a connected machine), or put "
        f"{_archive_name(sources['google'])} into "
        f"{os.path.join(cache_dir(), 'google')} (set KERAS_ALBERT_CACHE to "
        "move it). Use `load_weights=False` for the untrained architecture."
    )


def find_cached_named(name):
    """`(kind, folder)` of a registry preset already in a cache, or None;
    never touches the network."""
    from keras_albert.presets import google_checkpoint

    sources = ALBERT_PRESETS[name]["sources"]
    for source in source_order():
        where = sources.get(source)
        if where is None:
            continue
        try:
            if source == "hf":
                folder = _hf_cached(where, None)
                if folder is not None:
                    return "hf_dir", folder
            elif source == "google":
                folder = _release_folder(where)
                if os.path.isdir(folder):
                    return "google_dir", google_checkpoint.find_release_dir(
                        folder
                    )
            else:
                folder = _kaggle_cached(where)
                if folder is not None:
                    return "keras_hub_dir", folder
        except PresetError:
            continue
    return None
